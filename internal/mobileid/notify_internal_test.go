package mobileid

import (
	"bytes"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/lanyard-id/lanyard"
)

func TestTextToHTML(t *testing.T) {
	got := textToHTML("Hello <Alice> & co,\n\nline one\nline two\n")
	want := "<p>Hello &lt;Alice&gt; &amp; co,</p><p>line one<br>line two</p>"
	if got != want {
		t.Fatalf("textToHTML = %q, want %q", got, want)
	}
}

// TestCodeMailQR checks that the mailed QR code is large enough for mail
// clients to show without scaling it, and that the HTML gives its size.
func TestCodeMailQR(t *testing.T) {
	link := "https://lanyard.example.com/app/v1/enroll?code=0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
	m, err := codeMail(&lanyard.User{CommonName: "Alice", Email: "alice@example.com"}, link, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(m.ImagePNG))
	if err != nil || cfg.Width < mailQRPixels || cfg.Width != cfg.Height {
		t.Fatalf("mailed QR code: %v %dx%d", err, cfg.Width, cfg.Height)
	}
	if size := fmt.Sprintf(`width="%d" height="%d"`, cfg.Width, cfg.Height); !strings.Contains(m.HTML, size) {
		t.Errorf("the HTML does not give the image's size %s: %s", size, m.HTML)
	}
	s, err := qrEncode([]byte(link))
	if err != nil {
		t.Fatal(err)
	}
	if modules := s.size + 2*qrQuietZone; cfg.Width%modules != 0 {
		t.Errorf("%d pixels is no whole number of pixels for each of %d modules", cfg.Width, modules)
	}
}

// TestQRCacheBound checks that the QR code cache forgets its oldest link
// once full.
func TestQRCacheBound(t *testing.T) {
	c := &qrCache{max: 3, items: map[string][]byte{}}
	for _, link := range []string{"a", "b", "c", "a", "d"} {
		c.put(link, []byte(link))
	}
	if _, ok := c.get("a"); ok || len(c.items) != 3 || len(c.order) != 3 {
		t.Fatalf("items %v, order %v", c.items, c.order)
	}
	for _, link := range []string{"b", "c", "d"} {
		if png, ok := c.get(link); !ok || string(png) != link {
			t.Errorf("%s: %q %v", link, png, ok)
		}
	}
}
