package web

import (
	"context"
	"net/http"
	"time"
)

// handleHealthz says the process is alive; it checks nothing else, so a
// database outage does not get the process restarted.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// handleReadyz says whether the instance can serve requests: the database
// answers and its schema is current. A directory that cannot be reached
// does not make the instance unready (local users and mobile IDs work on),
// but its state is a line of the answer.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Ready(ctx); err != nil {
		s.Logger.Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready\n"))
		return
	}
	w.Write([]byte("ready\n"))
	if s.Directory != nil {
		w.Write([]byte(s.Directory.ReadyDetail() + "\n"))
	}
}
