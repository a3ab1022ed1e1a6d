package userimport

import (
	"fmt"
	"strconv"
	"time"
)

// Progress is how far the hashing of an import's passwords is.
type Progress struct {
	Hashed, Total int
	Elapsed       time.Duration
	// Done is set on the last report, when the hashing has ended.
	Done bool
}

// String reads, for instance, "hashed 12,000 of 1,000,000 passwords,
// 2,300/s, about 7 min left", or when done "hashed 1,000,000 passwords in
// 7m15s, 2,298/s".
func (p Progress) String() string {
	rate := 0.0
	if s := p.Elapsed.Seconds(); s > 0 {
		rate = float64(p.Hashed) / s
	}
	if p.Done {
		return fmt.Sprintf("hashed %s passwords in %s, %s/s", thousands(p.Hashed), p.Elapsed.Round(time.Second), thousands(int(rate+0.5)))
	}
	left := "time left unknown"
	if rate > 0 {
		left = "about " + roughly(time.Duration(float64(p.Total-p.Hashed)/rate*float64(time.Second))) + " left"
	}
	return fmt.Sprintf("hashed %s of %s passwords, %s/s, %s", thousands(p.Hashed), thousands(p.Total), thousands(int(rate+0.5)), left)
}

// roughly rounds a remaining time to what a person plans with.
func roughly(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds()+0.5)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes()+0.5)) + " min"
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
