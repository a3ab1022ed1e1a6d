package appapi

import (
	"net/http"
	"strings"

	"github.com/lanyard-id/lanyard/appclient"
)

// The app API answers pages of any origin (CORS), so that a phone app
// served by one Lanyard server can hold mobile IDs of others. That is safe
// because no call of the API rests on anything the browser adds by itself:
// no cookie, no session, no address. A call proves itself with an
// activation code or a device signature, and the answers are readable by
// whoever holds those anyway.
var corsHeaders = []string{
	"Content-Type", appclient.HeaderDevice, appclient.HeaderTimestamp, appclient.HeaderSignature,
}

// allowAnyOrigin marks an answer as readable by a page of any origin,
// without credentials.
func allowAnyOrigin(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Retry-After")
}

// handlePreflight answers a browser's CORS preflight for an app API call.
func (a *API) handlePreflight(w http.ResponseWriter, r *http.Request) {
	allowAnyOrigin(w)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", strings.Join(corsHeaders, ", "))
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
