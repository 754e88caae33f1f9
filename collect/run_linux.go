//go:build linux

package collect

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// Run records opts.Command: see the package documentation.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	if len(opts.Command) == 0 {
		return nil, errors.New("collect: no command to run")
	}
	if err := check(opts.TLSUprobes); err != nil {
		return nil, err
	}
	progress := func(format string, a ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format+"\n", a...)
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	ifaces := opts.Interfaces
	if len(ifaces) == 0 {
		var err error
		if ifaces, err = upInterfaces(); err != nil {
			return nil, err
		}
	}
	s := &Summary{Dir: opts.Dir, Command: opts.Command, Interfaces: ifaces}

	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("collect: raising the locked-memory limit: %w", err)
	}
	spec, err := loadCollect()
	if err != nil {
		return nil, fmt.Errorf("collect: the BPF object: %w", err)
	}
	if !opts.TLSUprobes {
		// The TLS ring buffer is not used: the smallest there is.
		spec.Maps["tls_events"].MaxEntries = uint32(os.Getpagesize())
	}
	var objs collectObjects
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("collect: the kernel rejected the BPF program: %+v", ve)
		}
		return nil, fmt.Errorf("collect: loading the BPF program: %w", err)
	}
	defer objs.Close()
	var links []link.Link
	closeLinks := func() {
		for _, l := range links {
			l.Close()
		}
		links = nil
	}
	defer closeLinks()
	for _, p := range []struct {
		prog *ebpf.Program
		tp   string
	}{
		{objs.OnFork, "sched:sched_process_fork"},
		{objs.OnFree, "sched:sched_process_free"},
		{objs.OnSend, "sock:sock_send_length"},
		{objs.OnRecv, "sock:sock_recv_length"},
	} {
		l, err := link.AttachTracing(link.TracingOptions{Program: p.prog, AttachType: ebpf.AttachTraceRawTp})
		if err != nil {
			hint := ""
			if strings.HasPrefix(p.tp, "sock:") {
				hint = " (the sock_send_length and sock_recv_length tracepoints are in Linux 6.3 and later)"
			}
			return nil, fmt.Errorf("collect: attaching to the %s tracepoint%s: %w", p.tp, hint, err)
		}
		links = append(links, l)
	}
	if opts.TLSUprobes {
		libs := opts.TLSLibraries
		if len(libs) == 0 {
			libs = findLibSSL()
		}
		tl, used, err := attachTLS(&objs, libs)
		if err != nil {
			return nil, fmt.Errorf("collect: %w", err)
		}
		links = append(links, tl...)
		s.TLSLibraries = used
	}
	rd, err := ringbuf.NewReader(objs.Events)
	if err != nil {
		return nil, fmt.Errorf("collect: ring buffer: %w", err)
	}
	defer rd.Close()

	tmp, err := os.MkdirTemp(opts.Dir, ".collect-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	rawPath := filepath.Join(tmp, "events.raw")
	capPath := filepath.Join(tmp, "capture.pcapng")
	keyPath := filepath.Join(tmp, "sslkeylog.txt")

	capt, err := startCapture(capPath, ifaces)
	if err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	captureStopped := false
	defer func() {
		if !captureStopped {
			capt.stop()
		}
	}()

	// The events are written raw while the command runs and symbolised
	// after, to take as little CPU as possible from it.
	rawF, err := os.Create(rawPath)
	if err != nil {
		return nil, err
	}
	defer rawF.Close()
	procs := map[uint32]*procInfo{}
	readerDone := make(chan error, 1)
	go func() { readerDone <- readEvents(rd, bufio.NewWriterSize(rawF, 1<<20), procs) }()
	tlsPath := filepath.Join(tmp, "tls.raw")
	var tlsRd *ringbuf.Reader
	tlsDone := make(chan error, 1)
	if opts.TLSUprobes {
		if tlsRd, err = ringbuf.NewReader(objs.TlsEvents); err != nil {
			return nil, fmt.Errorf("collect: TLS ring buffer: %w", err)
		}
		defer tlsRd.Close()
		tlsF, err := os.Create(tlsPath)
		if err != nil {
			return nil, err
		}
		defer tlsF.Close()
		go func() {
			err := readTLS(tlsRd, bufio.NewWriterSize(tlsF, 1<<20))
			if cerr := tlsF.Close(); err == nil {
				err = cerr
			}
			tlsDone <- err
		}()
	}

	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	now := time.Now()
	bootNs := now.UnixNano() - ts.Nano()
	startMs := now.UnixMilli()

	cmd := exec.Command(opts.Command[0], opts.Command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	cmd.Env = os.Environ()
	if !opts.NoKeys {
		cmd.Env = append(withoutEnv(cmd.Env, "SSLKEYLOGFILE"), "SSLKEYLOGFILE="+keyPath)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	traced := objs.Traced
	err = startHeld(cmd, func(pid int) error {
		return traced.Put(uint32(pid), uint8(1))
	})
	if err != nil {
		return nil, fmt.Errorf("collect: starting %s: %w", opts.Command[0], err)
	}
	s.Pid = cmd.Process.Pid
	progress("collect: recording %s (pid %d) on %s", strings.Join(opts.Command, " "), s.Pid, strings.Join(ifaces, ", "))

	waitErr := waitStopping(ctx, cmd, opts.Duration)
	s.ExitCode = -1
	if cmd.ProcessState != nil {
		s.ExitCode = cmd.ProcessState.ExitCode()
	}
	// Packets and events of the last calls are still on their way.
	time.Sleep(200 * time.Millisecond)
	closeLinks()
	if err := rd.Flush(); err != nil {
		return nil, fmt.Errorf("collect: ring buffer: %w", err)
	}
	if err := <-readerDone; err != nil {
		return nil, fmt.Errorf("collect: reading events: %w", err)
	}
	if tlsRd != nil {
		if err := tlsRd.Flush(); err != nil {
			return nil, fmt.Errorf("collect: TLS ring buffer: %w", err)
		}
		if err := <-tlsDone; err != nil {
			return nil, fmt.Errorf("collect: reading TLS records: %w", err)
		}
	}
	captureStopped = true
	var captWarnings []string
	if s.CaptureDrops, captWarnings, err = capt.stop(); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	s.Lost, s.OtherSockets = counter(objs.Counters, 0), counter(objs.Counters, 2)
	s.TLSLost, s.TLSUnreadable = counter(objs.Counters, 3), counter(objs.Counters, 5)
	if err := rawF.Close(); err != nil {
		return nil, err
	}
	progress("collect: %s exited (%v); symbolising the stacks", opts.Command[0], exitText(waitErr, s.ExitCode))

	raw, err := os.Open(rawPath)
	if err != nil {
		return nil, err
	}
	flows, st, err := writeEvents(raw, filepath.Join(opts.Dir, EventsFile), procs, bootNs)
	raw.Close()
	if err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	s.Events, s.Unconnected, s.Frames, s.FramesSymbolised = st.events, st.unconnected, st.frames, st.named
	s.Processes, s.Flows = len(st.pids), len(flows)

	if opts.TLSUprobes {
		raw, err := os.Open(tlsPath)
		if err != nil {
			return nil, err
		}
		ts, err := writeTLS(raw, filepath.Join(opts.Dir, TLSFile), procs, bootNs)
		raw.Close()
		if err != nil {
			return nil, fmt.Errorf("collect: %w", err)
		}
		s.TLSCalls, s.TLSUnlinked, s.TLSTruncated, s.TLSIncomplete = ts.calls, ts.unlinked, ts.truncated, ts.incomplete
		if s.TLSLost > 0 || s.TLSIncomplete > 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%d TLS plaintext records were lost (ring buffer full); %d SSL calls are incomplete", s.TLSLost, s.TLSIncomplete))
		}
		if s.TLSUnreadable > 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("the data of %d SSL calls could not be read from the process", s.TLSUnreadable))
		}
		if s.TLSTruncated > 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%d SSL calls moved more than %d bytes: only their first %d bytes are recorded", s.TLSTruncated, tlsChunk*tlsMaxChunks, tlsChunk*tlsMaxChunks))
		}
		if s.TLSUnlinked > 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("%d SSL calls have no socket (their SSL object made no socket call during an SSL call while recorded)", s.TLSUnlinked))
		}
	}
	var keylog []byte
	if !opts.NoKeys {
		if keylog, err = os.ReadFile(keyPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("collect: key log: %w", err)
		}
		s.KeyLogLines = strings.Count(string(keylog), "\n")
	}
	keep := flows
	if s.Lost > 0 || s.Unconnected > 0 {
		// Some flows may have no event: keep every packet.
		keep = nil
		s.Warnings = append(s.Warnings, "the capture is not filtered to the traced flows: some socket calls have no event with both ends (lost or unconnected)")
	}
	if s.Lost > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d socket events were lost (ring buffer full)", s.Lost))
	}
	if s.CaptureDrops > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("the kernel dropped %d packets of the capture", s.CaptureDrops))
	}
	s.Warnings = append(s.Warnings, captWarnings...)
	if s.Packets, s.PacketsKept, err = writeCapture(capPath, filepath.Join(opts.Dir, CaptureFile), keylog, keep); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if err := writeExperiment(filepath.Join(opts.Dir, ExperimentFile), startMs, s, opts.TLSUprobes); err != nil {
		return nil, fmt.Errorf("collect: %w", err)
	}
	if ctx.Err() != nil {
		return s, ctx.Err()
	}
	return s, nil
}

func exitText(err error, code int) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("exit status %d", code)
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, e := range env {
		if !strings.HasPrefix(e, name+"=") {
			out = append(out, e)
		}
	}
	return out
}

// counter sums a per-CPU counter.
func counter(m *ebpf.Map, i uint32) uint64 {
	var vals []uint64
	if err := m.Lookup(i, &vals); err != nil {
		return 0
	}
	var n uint64
	for _, v := range vals {
		n += v
	}
	return n
}

// readEvents copies ring buffer records to w until the reader is flushed
// or closed, and reads the mappings of every process it meets.
func readEvents(rd *ringbuf.Reader, w *bufio.Writer, procs map[uint32]*procInfo) error {
	var rec ringbuf.Record
	lastRead := map[uint32]time.Time{}
	for {
		err := rd.ReadInto(&rec)
		if err != nil {
			if errors.Is(err, ringbuf.ErrFlushed) || errors.Is(err, ringbuf.ErrClosed) || errors.Is(err, os.ErrClosed) {
				return w.Flush()
			}
			return err
		}
		if err := writeRaw(w, rec.RawSample); err != nil {
			return err
		}
		if len(rec.RawSample) < offStack {
			continue
		}
		pid := leUint32(rec.RawSample[offPid:])
		p := procs[pid]
		if p == nil {
			p = &procInfo{}
			p.exe, _ = os.Readlink("/proc/" + itoa(pid) + "/exe")
			procs[pid] = p
		}
		// Frames with only an address need the process's mappings; read
		// them again when an address falls outside the last ones (code
		// loaded since), at most every 50 ms.
		need := len(p.maps) == 0
		if !need {
			e, err := decodeEvent(rec.RawSample)
			if err == nil {
				for _, fr := range e.stack {
					if fr.status != stackValid && p.find(fr.off) == nil {
						need = true
						break
					}
				}
			}
		}
		if need && time.Since(lastRead[pid]) > 50*time.Millisecond {
			lastRead[pid] = time.Now()
			if ms, err := readProcMaps(pid); err == nil {
				p.maps = append(p.maps, ms)
			}
		}
	}
}

func leUint32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// startHeld starts cmd stopped right after its execve, calls register with
// its pid, then lets it run: no call of the command happens before the BPF
// program knows it. The stop is ptrace's: the child asks to be traced, the
// kernel stops it when exec succeeds, we detach.
func startHeld(cmd *exec.Cmd, register func(pid int) error) error {
	errc := make(chan error, 1)
	go func() {
		// The tracer is this thread: keep it for the goroutine's life;
		// the thread exits with it.
		runtime.LockOSThread()
		errc <- func() error {
			cmd.SysProcAttr.Ptrace = true
			if err := cmd.Start(); err != nil {
				return err
			}
			pid := cmd.Process.Pid
			var ws syscall.WaitStatus
			for {
				_, err := syscall.Wait4(pid, &ws, syscall.WALL, nil)
				if err == syscall.EINTR {
					continue
				}
				if err != nil {
					cmd.Process.Kill()
					return fmt.Errorf("waiting for the exec stop: %w", err)
				}
				break
			}
			if !ws.Stopped() {
				return fmt.Errorf("the command ended before it ran (%v)", ws)
			}
			if err := register(pid); err != nil {
				cmd.Process.Kill()
				syscall.PtraceDetach(pid)
				return fmt.Errorf("registering pid %d: %w", pid, err)
			}
			if err := syscall.PtraceDetach(pid); err != nil {
				cmd.Process.Kill()
				return fmt.Errorf("releasing pid %d: %w", pid, err)
			}
			return nil
		}()
	}()
	return <-errc
}

// waitStopping waits for the command; when ctx ends or d passes, it asks
// the command's process group to stop (SIGTERM) and kills it after
// StopGrace.
func waitStopping(ctx context.Context, cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	case <-timer:
	}
	pg := -cmd.Process.Pid
	syscall.Kill(pg, syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-time.After(StopGrace):
		syscall.Kill(pg, syscall.SIGKILL)
		return <-done
	}
}

var _ io.Writer = (*bufio.Writer)(nil)
