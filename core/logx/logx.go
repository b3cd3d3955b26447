// Package logx is PubSubX's diagnostic logger: one line per event, "LEVEL:
// message", written whole to an io.Writer (stdout for the server). It is
// small on purpose: the broker logs connection lifecycle events and warnings,
// never per-message work unless Debug is enabled, and checks Enabled before
// formatting anything on a hot path.
package logx

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Level orders the severities; a Logger prints lines at or above its level.
type Level int32

// Levels, lowest first.
const (
	Debug Level = iota
	Info
	Warn
	Error
	Off
)

var levelNames = [...]string{"DEBUG", "INFO", "WARN", "ERROR", "OFF"}

// String returns "DEBUG", "INFO", "WARN", "ERROR" or "OFF".
func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "LEVEL(" + fmt.Sprint(int32(l)) + ")"
}

// Logger writes leveled lines. It is safe for concurrent use: each line is one
// Write call under a mutex, so lines never interleave. A nil *Logger discards
// everything.
type Logger struct {
	level atomic.Int32
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
}

// New returns a Logger writing lines at or above level to w.
func New(w io.Writer, level Level) *Logger {
	l := &Logger{w: w}
	l.level.Store(int32(level))
	return l
}

// SetLevel changes the level; safe at any time.
func (l *Logger) SetLevel(level Level) { l.level.Store(int32(level)) }

// Enabled reports whether lines at level would be printed.
func (l *Logger) Enabled(level Level) bool {
	return l != nil && level >= Level(l.level.Load())
}

// Logf prints one line "LEVEL: message" when level is enabled. Control
// characters in the message (a newline in a client identifier, say) are
// escaped as \n, \r, \t or \xNN, and a backslash as \\, so what clients
// send can never forge or split a line (a %q in the format shows its
// escapes doubled).
func (l *Logger) Logf(level Level, format string, args ...any) {
	if !l.Enabled(level) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf[:0], level.String()...)
	l.buf = append(l.buf, ": "...)
	start := len(l.buf)
	l.buf = fmt.Appendf(l.buf, format, args...)
	l.buf = escapeControls(l.buf, start)
	l.buf = append(l.buf, '\n')
	l.w.Write(l.buf) // a logger has nowhere to report its own failure
	if cap(l.buf) > 64<<10 {
		l.buf = nil
	}
}

// Debugf logs at Debug level.
func (l *Logger) Debugf(format string, args ...any) { l.Logf(Debug, format, args...) }

// Infof logs at Info level.
func (l *Logger) Infof(format string, args ...any) { l.Logf(Info, format, args...) }

// Warnf logs at Warn level.
func (l *Logger) Warnf(format string, args ...any) { l.Logf(Warn, format, args...) }

// Errorf logs at Error level.
func (l *Logger) Errorf(format string, args ...any) { l.Logf(Error, format, args...) }

// escapeControls rewrites the ASCII control characters of b[from:] (and the
// backslash, so that no escape can be forged either) as Go-style
// escapes and returns the extended slice; b is returned as is when it has
// none (the common case, with no copying).
func escapeControls(b []byte, from int) []byte {
	first := -1
	for i := from; i < len(b); i++ {
		if b[i] < 0x20 || b[i] == 0x7f || b[i] == '\\' {
			first = i
			break
		}
	}
	if first < 0 {
		return b
	}
	tail := append([]byte(nil), b[first:]...)
	b = b[:first]
	const hex = "0123456789abcdef"
	for _, c := range tail {
		switch {
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c == '\\':
			b = append(b, '\\', '\\')
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}
