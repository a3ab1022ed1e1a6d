package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// realClient sets a request's RemoteAddr to its client's address. A
// request from one of TrustedProxies names its client in Forwarded (RFC
// 7239) or X-Forwarded-For; each proxy appends the peer it heard from, so
// the list is read from the right, past the trusted proxies, to the first
// address that is not one: anything left of it is whatever the client
// chose to send. A request from any other peer, or without such a header,
// keeps its peer's address, so that nobody can pick their own address for
// the per-address login limits by sending a header.
func (s *Server) realClient(next http.Handler) http.Handler {
	if len(s.TrustedProxies) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, port, err := net.SplitHostPort(r.RemoteAddr)
		peer, perr := netip.ParseAddr(host)
		if err == nil && perr == nil && s.trusted(peer) {
			if client, ok := s.forwardedClient(r.Header); ok {
				r.RemoteAddr = net.JoinHostPort(client.String(), port)
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedClient reads the client's address from the hops the proxies
// recorded, Forwarded before X-Forwarded-For.
func (s *Server) forwardedClient(h http.Header) (netip.Addr, bool) {
	hops := forwardedFor(h.Values("Forwarded"))
	if len(hops) == 0 {
		for _, v := range h.Values("X-Forwarded-For") {
			for _, f := range strings.Split(v, ",") {
				hops = append(hops, strings.TrimSpace(f))
			}
		}
	}
	var client netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := parseHop(hops[i])
		if err != nil {
			// A hop that cannot be read was not written by a trusted
			// proxy; the last address read is as far as trust goes.
			break
		}
		client = a
		if !s.trusted(a) {
			break
		}
	}
	return client, client.IsValid()
}

// forwardedFor returns the for= parameters of Forwarded header values.
func forwardedFor(values []string) []string {
	var hops []string
	for _, v := range values {
		for _, elem := range strings.Split(v, ",") {
			for _, pair := range strings.Split(elem, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(k, "for") {
					hops = append(hops, strings.Trim(val, `"`))
				}
			}
		}
	}
	return hops
}

// parseHop reads an address as the headers write it: 192.0.2.1,
// 192.0.2.1:4711, 2001:db8::1 or [2001:db8::1]:4711.
func parseHop(s string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	return a.Unmap(), err
}
