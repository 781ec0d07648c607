/*
Copyright 2026 The tokenwarden authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package main

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/duration"
)

// human is a duration as kubectl prints ages: 42s, 7m30s, 42m, 5h10m, 3d.
func human(d time.Duration) string {
	return duration.HumanDuration(d)
}

// relative is t seen from now: "in 5m", "3m ago", "now".
func relative(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d > -time.Second && d < time.Second:
		return "now"
	case d > 0:
		return "in " + human(d)
	}
	return human(-d) + " ago"
}

// timestamp is t in UTC, RFC 3339, with its relative time: "2026-03-14T12:30:00Z (in 30m)".
func timestamp(t, now time.Time) string {
	return fmt.Sprintf("%s (%s)", t.UTC().Format(time.RFC3339), relative(t, now))
}

// clean makes text from the cluster or a token safe for one line of a terminal: line
// breaks and tabs become spaces, other control characters (escape sequences that could
// rewrite the screen) become '?'.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r) || r == utf8.RuneError:
			return '?'
		}
		return r
	}, s)
}

// truncate shortens s to at most n runes, marking the cut with "...".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-3]), " ") + "..."
}

// ANSI colours of a table row.
const (
	colourNone   = ""
	colourRed    = "\x1b[31m"
	colourYellow = "\x1b[33m"
	colourReset  = "\x1b[0m"
)

// table prints aligned columns as kubectl does (three spaces apart). It pads by itself
// rather than with text/tabwriter, so that colour codes do not count as width.
type table struct {
	header []string
	rows   []tableRow
}

type tableRow struct {
	cells  []string
	colour string
}

func (t *table) add(colour string, cells ...string) {
	t.rows = append(t.rows, tableRow{cells: cells, colour: colour})
}

// write prints the table, with colours only when colour is set.
func (t *table) write(w io.Writer, colour bool) error {
	widths := make([]int, len(t.header))
	for _, r := range append([]tableRow{{cells: t.header}}, t.rows...) {
		for i, c := range r.cells {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	line := func(r tableRow) {
		var l strings.Builder
		for i, c := range r.cells {
			l.WriteString(c)
			if i < len(r.cells)-1 {
				l.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+3))
			}
		}
		text := strings.TrimRight(l.String(), " ")
		if colour && r.colour != colourNone {
			text = r.colour + text + colourReset
		}
		b.WriteString(text + "\n")
	}
	line(tableRow{cells: t.header})
	for _, r := range t.rows {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
