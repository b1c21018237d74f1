package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// series is one stacked part of a bar chart: a name (its CSS class names
// its color: s-<name>) and one value per bucket.
type series struct {
	Name   string
	Values []int
}

// barChart is a server-rendered SVG bar chart of counts per time bucket:
// no script, no framework, a fixed size whatever the values.
type barChart struct {
	// Title is the chart's accessible name.
	Title string
	// Start is the time of the first bucket; Step the width of each.
	Start time.Time
	Step  time.Duration
	// Series are stacked bottom to top; every Values has the same length.
	Series []series
}

// maxBuckets bounds the bars a chart draws.
const maxBuckets = 240

// SVG renders the chart: one bar per bucket, the series stacked, a
// <title> per bar with its time and counts (a tooltip), and the largest
// total as the scale. Names and the title are escaped.
func (c barChart) SVG() template.HTML {
	n := 0
	for _, s := range c.Series {
		n = max(n, len(s.Values))
	}
	n = min(n, maxBuckets)
	const w, h, pad = 600, 80, 14
	totals := make([]int, n)
	peak := 0
	for i := range n {
		for _, s := range c.Series {
			if i < len(s.Values) && s.Values[i] > 0 {
				totals[i] += s.Values[i]
			}
		}
		peak = max(peak, totals[i])
	}
	var b strings.Builder
	esc := func(s string) string {
		// Valid UTF-8 without control characters, escaped: XML allows
		// nothing else.
		s = strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f || r == 0xfffe || r == 0xffff {
				return ' '
			}
			return r
		}, strings.ToValidUTF8(s, "\uFFFD"))
		return template.HTMLEscapeString(s)
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" height="%d" role="img" aria-label="%s" preserveAspectRatio="none">`, w, h+pad, h+pad, esc(c.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, esc(c.Title))
	fmt.Fprintf(&b, `<line class="axis" x1="0" y1="%d" x2="%d" y2="%d"/>`, h, w, h)
	if n > 0 && peak > 0 {
		bw := float64(w) / float64(n)
		for i := range n {
			x := float64(i) * bw
			y := float64(h)
			var tip []string
			for _, s := range c.Series {
				if i >= len(s.Values) || s.Values[i] <= 0 {
					continue
				}
				bh := float64(s.Values[i]) / float64(peak) * float64(h-2)
				y -= bh
				fmt.Fprintf(&b, `<rect class="s-%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, esc(s.Name), x+0.5, y, max(bw-1, 0.5), bh)
				tip = append(tip, fmt.Sprintf("%d %s", s.Values[i], s.Name))
			}
			if len(tip) > 0 {
				at := c.Start.Add(time.Duration(i) * c.Step)
				fmt.Fprintf(&b, `<rect class="hit" x="%.1f" y="0" width="%.1f" height="%d"><title>%s: %s</title></rect>`,
					x, bw, h, at.Format("15:04"), esc(strings.Join(tip, ", ")))
			}
		}
	}
	if n > 0 {
		fmt.Fprintf(&b, `<text x="0" y="%d">%s</text>`, h+pad-2, c.Start.Format("15:04"))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, w, h+pad-2, c.Start.Add(time.Duration(n)*c.Step).Format("15:04"))
	}
	fmt.Fprintf(&b, `<text x="%d" y="10" text-anchor="end">max %d</text>`, w, peak)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
