//go:build !windows

package main

import "os"

// enableEscapes does nothing: terminals here understand escape sequences.
func enableEscapes(*os.File) {}
