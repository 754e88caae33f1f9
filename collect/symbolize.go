package collect

import (
	"bufio"
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Frame is one symbolised frame of a native stack, as written to
// socket_events.jsonl.
type Frame struct {
	Module   string `json:"module,omitempty"`
	Function string `json:"function,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	// Address is the frame's address in the module's ELF file (what
	// addr2line takes), or the run-time address when no module is known.
	Address string `json:"address,omitempty"`
	// BuildID and Offset (into the file) are what the kernel gave when it
	// could read the module's GNU build ID.
	BuildID string `json:"build_id,omitempty"`
	Offset  string `json:"offset,omitempty"`
}

// mapping is one executable mapping of a process (/proc/PID/maps).
type mapping struct {
	start, end, off uint64
	path            string
}

// readMaps reads the file-backed executable mappings of a process.
func readMaps(r io.Reader) ([]mapping, error) {
	var out []mapping
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// 00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/dbus-daemon
		f := strings.Fields(sc.Text())
		if len(f) < 6 || len(f[1]) < 3 || f[1][2] != 'x' {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		off, err3 := strconv.ParseUint(f[2], 16, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		path := strings.Join(f[5:], " ")
		out = append(out, mapping{start: start, end: end, off: off, path: path})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	return out, sc.Err()
}

func findMapping(ms []mapping, ip uint64) *mapping {
	i := sort.Search(len(ms), func(i int) bool { return ms[i].end > ip })
	if i < len(ms) && ms[i].start <= ip {
		return &ms[i]
	}
	return nil
}

// module is one ELF file, opened for symbolisation.
type module struct {
	path    string
	err     error
	buildID string
	loads   []elf.ProgHeader
	syms    []elf.Symbol // functions, sorted by address
	gotab   *gosym.Table
}

// vaddr turns a file offset into the address the ELF file gives it.
func (m *module) vaddr(off uint64) (uint64, bool) {
	for _, p := range m.loads {
		if off >= p.Off && off < p.Off+p.Filesz {
			return off - p.Off + p.Vaddr, true
		}
	}
	return 0, false
}

// lookup names the code at addr (an address in the ELF file).
func (m *module) lookup(addr uint64) (fn, file string, line int) {
	if m.gotab != nil {
		if f, l, g := m.gotab.PCToLine(addr); g != nil {
			return g.Name, f, l
		}
	}
	i := sort.Search(len(m.syms), func(i int) bool { return m.syms[i].Value > addr }) - 1
	if i >= 0 {
		s := m.syms[i]
		if s.Size == 0 || addr < s.Value+s.Size {
			return s.Name, "", 0
		}
	}
	return "", "", 0
}

func openModule(path string) *module {
	m := &module{path: path}
	f, err := elf.Open(path)
	if err != nil {
		m.err = err
		return m
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			m.loads = append(m.loads, p.ProgHeader)
		}
	}
	m.buildID = gnuBuildID(f)
	syms, _ := f.Symbols()
	if len(syms) == 0 {
		syms, _ = f.DynamicSymbols()
	}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
			m.syms = append(m.syms, s)
		}
	}
	sort.SliceStable(m.syms, func(i, j int) bool { return m.syms[i].Value < m.syms[j].Value })
	if s := f.Section(".gopclntab"); s != nil {
		if data, err := s.Data(); err == nil {
			var text uint64
			if t := f.Section(".text"); t != nil {
				text = t.Addr
			}
			if tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text)); err == nil {
				m.gotab = tab
			}
		}
	}
	return m
}

// gnuBuildID reads the NT_GNU_BUILD_ID note, what the kernel reports.
func gnuBuildID(f *elf.File) string {
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		if id := noteBuildID(data, f.ByteOrder); id != "" {
			return id
		}
	}
	return ""
}

func noteBuildID(b []byte, bo binary.ByteOrder) string {
	for len(b) >= 12 {
		namesz, descsz, typ := bo.Uint32(b), bo.Uint32(b[4:]), bo.Uint32(b[8:])
		b = b[12:]
		nl := int(namesz+3) &^ 3
		dl := int(descsz+3) &^ 3
		if nl < 0 || dl < 0 || nl+dl > len(b) || int(namesz) > len(b) {
			return ""
		}
		name := b[:namesz]
		desc := b[nl : nl+int(descsz)]
		if typ == 3 && bytes.Equal(bytes.TrimRight(name, "\x00"), []byte("GNU")) {
			return hex.EncodeToString(desc)
		}
		b = b[nl+dl:]
	}
	return ""
}

// symbolizer turns raw frames into Frames, caching modules and frames.
type symbolizer struct {
	modules map[string]*module
	byID    map[string]*module // GNU build ID → module
	paths   []string           // every mapped file seen, to find build IDs
	indexed int                // paths[:indexed] are in byID
	frames  map[frameKey]Frame
	total   int
	named   int
}

type frameKey struct {
	status int32
	id     [20]byte
	off    uint64
	path   string // stackIP frames: the mapping's file
}

func newSymbolizer() *symbolizer {
	return &symbolizer{modules: map[string]*module{}, byID: map[string]*module{}, frames: map[frameKey]Frame{}}
}

// addPaths makes files known, for build IDs the kernel reports.
func (s *symbolizer) addPaths(ms []mapping) {
	for _, m := range ms {
		if strings.HasPrefix(m.path, "/") {
			s.paths = append(s.paths, m.path)
		}
	}
}

func (s *symbolizer) module(path string) *module {
	m, ok := s.modules[path]
	if !ok {
		m = openModule(path)
		s.modules[path] = m
		if m.buildID != "" {
			if _, dup := s.byID[m.buildID]; !dup {
				s.byID[m.buildID] = m
			}
		}
	}
	return m
}

func (s *symbolizer) moduleByID(id string) *module {
	if m, ok := s.byID[id]; ok {
		return m
	}
	for ; s.indexed < len(s.paths); s.indexed++ {
		s.module(s.paths[s.indexed])
		if m, ok := s.byID[id]; ok {
			s.indexed++
			return m
		}
	}
	return nil
}

// frame symbolises one frame; maps are the process's mappings (for
// frames the kernel gave only an address for).
func (s *symbolizer) frame(fr rawFrame, maps []mapping) Frame {
	key := frameKey{status: fr.status, id: fr.buildID, off: fr.off}
	var mp *mapping
	if fr.status != stackValid {
		if mp = findMapping(maps, fr.off); mp != nil {
			key.path = mp.path
			key.off = fr.off - mp.start + mp.off // file offset
		} else {
			key.path = "?"
		}
	}
	s.total++
	if out, ok := s.frames[key]; ok {
		if out.Function != "" {
			s.named++
		}
		return out
	}
	var out Frame
	var m *module
	switch {
	case fr.status == stackValid:
		id := hex.EncodeToString(fr.buildID[:])
		out.BuildID = id
		out.Offset = "0x" + strconv.FormatUint(fr.off, 16)
		m = s.moduleByID(id)
	case mp != nil:
		out.Module = mp.path
		if strings.HasPrefix(mp.path, "/") {
			m = s.module(mp.path)
		}
	default:
		out.Address = "0x" + strconv.FormatUint(fr.off, 16)
	}
	if m != nil && m.err == nil {
		out.Module = m.path
		if va, ok := m.vaddr(key.off); ok {
			out.Address = "0x" + strconv.FormatUint(va, 16)
			// A return address points after the call; the call is the
			// frame's line. The first frame's address follows the
			// syscall instruction, the same.
			out.Function, out.File, out.Line = m.lookup(va - 1)
		}
	}
	if out.Address == "" && fr.status != stackValid {
		out.Address = "0x" + strconv.FormatUint(fr.off, 16)
	}
	s.frames[key] = out
	if out.Function != "" {
		s.named++
	}
	return out
}

func (s *symbolizer) String() string {
	return fmt.Sprintf("%d of %d frames named, %d modules", s.named, s.total, len(s.modules))
}

// readProcMaps reads /proc/PID/maps.
func readProcMaps(pid uint32) ([]mapping, error) {
	f, err := os.Open("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/maps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readMaps(f)
}
