//go:build !linux

package main

import (
	"errors"

	"github.com/pubsubx/pubsubx/loadgen"
)

var errNoTaskset = errors.New("pinning needs Linux's taskset")

func pinLoadgen(cpu string, procs int, argv []string) (loadgen.PinningRecord, error) {
	return loadgen.PinningRecord{}, errNoTaskset
}

func lookTaskset() (string, error) { return "", errNoTaskset }
