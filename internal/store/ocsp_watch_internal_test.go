package store

import (
	"strings"
	"testing"
)

// TestChunkSerials checks that the NOTIFY payloads stay under the limit and
// carry every serial once.
func TestChunkSerials(t *testing.T) {
	var serials []string
	for i := range 500 {
		serials = append(serials, strings.Repeat("f", 30)+string(rune('a'+i%26)))
	}
	chunks := chunkSerials(serials, 1000)
	var got []string
	for _, c := range chunks {
		if len(c) > 1000 {
			t.Errorf("payload of %d bytes", len(c))
		}
		got = append(got, strings.Split(c, ",")...)
	}
	if strings.Join(got, ",") != strings.Join(serials, ",") {
		t.Errorf("serials lost or reordered: %d of %d", len(got), len(serials))
	}
	if c := chunkSerials([]string{"ab"}, 1000); len(c) != 1 || c[0] != "ab" {
		t.Errorf("one serial: %q", c)
	}
}
