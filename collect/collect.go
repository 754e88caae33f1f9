package collect

import (
	"errors"
	"io"
	"time"
)

// Options says what to run and where to write.
type Options struct {
	// Dir receives capture.pcapng, socket_events.jsonl and
	// experiment.json; it is created if needed.
	Dir string
	// Command and its arguments; Command[0] is looked up in PATH.
	Command []string
	// Interfaces to capture on; empty means every interface that is up.
	Interfaces []string
	// NoKeys leaves SSLKEYLOGFILE unset for the command.
	NoKeys bool
	// Duration stops the command (SIGTERM, then SIGKILL after
	// StopGrace) after this long; 0 waits for it to exit.
	Duration time.Duration
	// TLSUprobes records the plaintext of libssl's SSL_write, SSL_read,
	// SSL_write_ex and SSL_read_ex calls of the tree in tls_plaintext.jsonl
	// (x86-64).
	TLSUprobes bool
	// TLSLibraries are the libssl files to set the uprobes on; empty means
	// every libssl.so* in the system's library folders.
	TLSLibraries []string
	// Progress, when not nil, receives one line per stage.
	Progress io.Writer
	// Stdin, Stdout and Stderr are the command's; nil means none.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// StopGrace is how long a command that was asked to stop (SIGTERM) has
// before it is killed.
const StopGrace = 5 * time.Second

// Summary says what a run recorded.
type Summary struct {
	Dir              string   `json:"-"`
	Command          []string `json:"command"`
	Pid              int      `json:"pid"`
	ExitCode         int      `json:"exit_code"`
	Events           int      `json:"events"`
	Lost             uint64   `json:"lost_events"`
	Unconnected      int      `json:"unconnected_events"`
	OtherSockets     uint64   `json:"other_socket_events"`
	Processes        int      `json:"processes"`
	Flows            int      `json:"flows"`
	Packets          int      `json:"packets"`
	PacketsKept      int      `json:"packets_kept"`
	CaptureDrops     uint64   `json:"capture_drops"`
	Interfaces       []string `json:"interfaces"`
	KeyLogLines      int      `json:"key_log_lines"`
	Frames           int      `json:"frames"`
	FramesSymbolised int      `json:"frames_symbolised"`
	// With TLSUprobes: the libraries probed, the SSL calls recorded, those
	// with no socket known, those whose data was cut at 64 KiB, those
	// with chunks lost, and the ring buffer records lost or unreadable.
	TLSLibraries  []string `json:"tls_libraries,omitempty"`
	TLSCalls      int      `json:"tls_calls,omitempty"`
	TLSUnlinked   int      `json:"tls_unlinked_calls,omitempty"`
	TLSTruncated  int      `json:"tls_truncated_calls,omitempty"`
	TLSIncomplete int      `json:"tls_incomplete_calls,omitempty"`
	TLSLost       uint64   `json:"tls_records_lost,omitempty"`
	TLSUnreadable uint64   `json:"tls_unreadable_calls,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
}

// ErrUnsupported is returned by Run where eBPF collection is not
// available (systems other than Linux).
var ErrUnsupported = errors.New("collect: recording with eBPF needs Linux")

// File names in the output folder.
const (
	CaptureFile    = "capture.pcapng"
	EventsFile     = "socket_events.jsonl"
	ExperimentFile = "experiment.json"
)
