package appapi

import (
	"regexp"
	"strings"
)

// browsers are matched in this order: the names of the browsers that
// build on others come before those they build on.
var browsers = []struct{ name, token string }{
	{"Edge", "Edg/"}, {"Opera", "OPR/"}, {"Samsung Internet", "SamsungBrowser/"}, {"Firefox", "Firefox/"},
	{"Chrome", "Chrome/"}, {"Chromium", "Chromium/"}, {"Safari", "Version/"},
}

var systems = []struct{ name, token string }{
	{"Android", "Android"}, {"iOS", "iPhone"}, {"iPadOS", "iPad"}, {"Windows", "Windows"},
	{"macOS", "Macintosh"}, {"ChromeOS", "CrOS"}, {"Linux", "Linux"},
}

var version = regexp.MustCompile(`^[0-9]+`)

// browserName describes a User-Agent header as a person reads it, such as
// "Chrome 131 on Windows"; "an unknown browser" when it says nothing known.
func browserName(ua string) string {
	name := ""
	for _, b := range browsers {
		if i := strings.Index(ua, b.token); i >= 0 {
			name = b.name
			if v := version.FindString(ua[i+len(b.token):]); v != "" {
				name += " " + v
			}
			break
		}
	}
	system := ""
	for _, s := range systems {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case name != "" && system != "":
		return name + " on " + system
	case name != "":
		return name
	case system != "":
		return "a browser on " + system
	}
	return "an unknown browser"
}
