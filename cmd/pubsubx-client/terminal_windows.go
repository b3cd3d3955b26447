//go:build windows

package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// enableEscapes turns on the console's VT100 escape sequences, which the
// line editor uses to redraw the line being typed (Windows 10 and later).
func enableEscapes(out *os.File) {
	h := windows.Handle(out.Fd())
	var mode uint32
	if windows.GetConsoleMode(h, &mode) == nil {
		windows.SetConsoleMode(h, mode|windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING)
	}
}
