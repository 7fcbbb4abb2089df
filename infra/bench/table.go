package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// table is the one table the bench prints: sections, each with its own
// header, sharing one column grid.
type table struct {
	lines []tableLine
}

type lineKind int

const (
	lineRow lineKind = iota
	lineHeader
	lineSection
	lineNote
)

type tableLine struct {
	kind  lineKind
	cells []string
	tail  string // printed after the aligned cells, outside the grid
}

func (t *table) section(title string) {
	t.lines = append(t.lines, tableLine{kind: lineSection, cells: []string{title}})
}

func (t *table) header(cells ...string) {
	t.lines = append(t.lines, tableLine{kind: lineHeader, cells: cells})
}

// headerTail is a header with free text after its cells.
func (t *table) headerTail(tail string, cells ...string) {
	t.lines = append(t.lines, tableLine{kind: lineHeader, cells: cells, tail: tail})
}

func (t *table) row(cells ...string) {
	t.lines = append(t.lines, tableLine{kind: lineRow, cells: cells})
}

// rowTail is a row with free text after its cells.
func (t *table) rowTail(tail string, cells ...string) {
	t.lines = append(t.lines, tableLine{kind: lineRow, cells: cells, tail: tail})
}

func (t *table) note(format string, args ...any) {
	t.lines = append(t.lines, tableLine{kind: lineNote, cells: []string{fmt.Sprintf(format, args...)}})
}

func (t *table) write(w io.Writer) {
	var widths []int
	for _, l := range t.lines {
		if l.kind != lineRow && l.kind != lineHeader {
			continue
		}
		for i, c := range l.cells {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := 0
	for _, wd := range widths {
		total += wd + 2
	}
	for _, l := range t.lines {
		switch l.kind {
		case lineSection:
			title := "── " + l.cells[0] + " "
			fmt.Fprintln(w, title+strings.Repeat("─", max(3, total-utf8.RuneCountInString(title))))
		case lineNote:
			fmt.Fprintln(w, "  "+l.cells[0])
		default:
			var b strings.Builder
			for i, c := range l.cells {
				pad := widths[i] - utf8.RuneCountInString(c)
				if i == 0 {
					b.WriteString(c + strings.Repeat(" ", pad))
				} else {
					b.WriteString("  " + strings.Repeat(" ", pad) + c) // numbers right-aligned
				}
			}
			if l.tail != "" {
				b.WriteString("  " + l.tail)
			}
			fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		}
	}
}
