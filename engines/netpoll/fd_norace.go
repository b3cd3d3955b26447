//go:build linux && !race

package netpoll

// fdFloor is the lowest number the next descriptor handed to netpoll may
// take: any (see fd_race.go for race builds).
func fdFloor() int { return 0 }
