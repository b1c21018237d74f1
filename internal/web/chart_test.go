package web

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

// wellFormed reports whether s parses as XML.
func wellFormed(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestWebChartStacksSeriesAndScalesToThePeak(t *testing.T) {
	c := barChart{Title: "deliveries <last hour>", Start: time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC), Step: time.Minute,
		Series: []series{{Name: "delivered", Values: []int{2, 0, 4}}, {Name: "dead", Values: []int{2, 0, 0}}}}
	svg := string(c.SVG())
	if err := wellFormed(svg); err != nil {
		t.Fatalf("not well-formed SVG: %v\n%s", err, svg)
	}
	for _, want := range []string{`aria-label="deliveries &lt;last hour&gt;"`, `class="s-delivered"`, `class="s-dead"`, "15:00: 2 delivered, 2 dead", "15:02: 4 delivered", "max 4", ">15:03<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q:\n%s", want, svg)
		}
	}
	// The peak's bar fills the height: 2+2 and 4 reach the same top.
	if strings.Count(svg, `y="2.0"`) != 2 {
		t.Errorf("the two peak bars do not reach the top:\n%s", svg)
	}
	if strings.Contains(svg, "15:01:") {
		t.Errorf("an empty bucket has a tooltip")
	}
}

func TestWebChartEmptyAndHuge(t *testing.T) {
	if err := wellFormed(string(barChart{Title: "none"}.SVG())); err != nil {
		t.Errorf("empty chart: %v", err)
	}
	big := make([]int, 10000)
	for i := range big {
		big[i] = i
	}
	svg := string(barChart{Title: "big", Step: time.Minute, Series: []series{{Name: "x", Values: big}}}.SVG())
	if n := strings.Count(svg, "<rect class=\"s-x\""); n > maxBuckets {
		t.Errorf("%d bars drawn, more than %d", n, maxBuckets)
	}
}

// FuzzWebChart: any names, title and values give a well-formed SVG.
func FuzzWebChart(f *testing.F) {
	f.Add("t<", "a\"b", 3, -1, 7)
	f.Fuzz(func(t *testing.T, title, name string, a, b, c int) {
		svg := string(barChart{Title: title, Step: time.Minute, Series: []series{{Name: name, Values: []int{a, b, c}}}}.SVG())
		if err := wellFormed(svg); err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
	})
}
