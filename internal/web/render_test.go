package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/lanyard-id/lanyard"
)

// TestPagesGoOutWhole: a page of more than the 2 kB net/http sends with
// a length by itself (the activation page, with its QR code) is sent with
// its length, not in chunks.
func TestPagesGoOutWhole(t *testing.T) {
	p := newPortal(t, sqliteDSN(t))
	p.addUser(t, "alice", lanyard.UserActive)
	c := p.loggedIn(t, "alice")
	resp, body := p.post(t, c, "/mobile-id/get", url.Values{"action": {"next"}})
	wantStatus(t, resp, body, http.StatusSeeOther)
	resp, body = p.get(t, c, resp.Header.Get("Location"))
	wantStatus(t, resp, body, http.StatusOK, "Scan this QR code")
	if len(body) <= 2048 || resp.ContentLength != int64(len(body)) || len(resp.TransferEncoding) != 0 {
		t.Errorf("a page of %d bytes came with length %d and transfer encoding %v", len(body), resp.ContentLength, resp.TransferEncoding)
	}
}
