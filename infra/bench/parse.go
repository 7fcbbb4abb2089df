package main

import (
	"bufio"
	"bytes"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GoBench is one line of `go test -bench -benchmem` output.
type GoBench struct {
	Package     string  `json:"package"`
	Name        string  `json:"name"` // without the Benchmark prefix and the -GOMAXPROCS suffix
	Iterations  int64   `json:"iterations"`
	NsPerOp     float64 `json:"nsPerOp"`
	BytesPerOp  int64   `json:"bytesPerOp"`
	AllocsPerOp int64   `json:"allocsPerOp"`
}

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+(\d+)\s+([\d.]+) ns/op(?:\s+(\d+) B/op)?(?:\s+(\d+) allocs/op)?`)

// parseGoBench reads benchmark results, attributing each to the package
// named by the preceding "pkg:" line.
func parseGoBench(out []byte) []GoBench {
	var (
		res []GoBench
		pkg string
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b := GoBench{Package: pkg, Name: m[1]}
		b.Iterations, _ = strconv.ParseInt(m[2], 10, 64)
		b.NsPerOp, _ = strconv.ParseFloat(m[3], 64)
		b.BytesPerOp, _ = strconv.ParseInt(m[4], 10, 64)
		b.AllocsPerOp, _ = strconv.ParseInt(m[5], 10, 64)
		res = append(res, b)
	}
	return res
}

// PkgInit is one package's line of GODEBUG=inittrace=1 output.
type PkgInit struct {
	Package string  `json:"package"`
	ClockMs float64 `json:"clockMs"`
	Bytes   int64   `json:"bytes"`
	Allocs  int64   `json:"allocs"`
}

// init internal/bytealg @0.008 ms, 0.003 ms clock, 0 bytes, 0 allocs
var initLine = regexp.MustCompile(`^init (\S+) @[\d.]+ ms, ([\d.]+) ms clock, (\d+) bytes, (\d+) allocs`)

// parseInitTrace reads inittrace lines from a process's stderr.
func parseInitTrace(stderr []byte) []PkgInit {
	var res []PkgInit
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		p := PkgInit{Package: m[1]}
		p.ClockMs, _ = strconv.ParseFloat(m[2], 64)
		p.Bytes, _ = strconv.ParseInt(m[3], 10, 64)
		p.Allocs, _ = strconv.ParseInt(m[4], 10, 64)
		res = append(res, p)
	}
	return res
}

// quantile returns the q-quantile (0..1) of xs by linear interpolation
// between closest ranks; xs need not be sorted. It is 0 for no values (the
// JSON report cannot hold NaN).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + (s[hi]-s[lo])*(pos-float64(lo))
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t / float64(len(xs))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
