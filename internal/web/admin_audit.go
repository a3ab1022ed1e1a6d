package web

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/auditlog"
)

// timeInput is how the audit filter's time fields write a time
// (datetime-local, read as UTC).
const timeInput = "2006-01-02T15:04"

type adminAuditView struct {
	Events                           []*lanyard.AuditEvent
	Actor, Action, Subject, From, To string
	Next                             int64
	Filtered                         bool
	// ExportURL and OlderURL carry the filter, built here from the parsed
	// filter alone.
	ExportURL, OlderURL template.URL
	Chain               *auditlog.Result
}

// auditFilter reads the filter of the audit log page from its query.
func auditFilter(r *http.Request) (lanyard.AuditFilter, adminAuditView) {
	q := r.URL.Query()
	v := adminAuditView{Actor: truncate(q.Get("actor"), 100), Action: truncate(q.Get("action"), 100),
		Subject: truncate(q.Get("subject"), 200), From: truncate(q.Get("from"), 20), To: truncate(q.Get("to"), 20)}
	f := lanyard.AuditFilter{Actor: v.Actor, Action: v.Action, Subject: v.Subject, Limit: 100}
	if t, err := time.Parse(timeInput, v.From); err == nil {
		f.From = t
	} else {
		v.From = ""
	}
	if t, err := time.Parse(timeInput, v.To); err == nil {
		f.To = t
	} else {
		v.To = ""
	}
	f.BeforeID, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	keep := url.Values{}
	for k, val := range map[string]string{"actor": v.Actor, "action": v.Action, "subject": v.Subject, "from": v.From, "to": v.To} {
		if val != "" {
			keep.Set(k, val)
		}
	}
	v.Filtered = len(keep) > 0
	v.ExportURL = template.URL("/admin/audit/export.csv?" + keep.Encode())
	return f, v
}

func filtered(f lanyard.AuditFilter) bool {
	return f.Actor != "" || f.Action != "" || f.Subject != "" || !f.From.IsZero() || !f.To.IsZero()
}

// handleAdminAudit shows the audit log, newest first, under a banner that
// says whether its chain is whole or names the first event that is not.
func (s *Server) handleAdminAudit(w http.ResponseWriter, r *http.Request) {
	f, v := auditFilter(r)
	events, err := s.Audit.FindAuditEvents(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Events = events
	if len(events) == f.Limit {
		v.Next = events[len(events)-1].ID
		q, _ := url.ParseQuery(strings.TrimPrefix(string(v.ExportURL), "/admin/audit/export.csv?"))
		q.Set("before", strconv.FormatInt(v.Next, 10))
		v.OlderURL = template.URL("/admin/audit?" + q.Encode())
	}
	if s.AuditChain != nil && s.AuditKey != nil {
		res, err := auditlog.Verify(r.Context(), s.AuditChain, s.AuditKey)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Chain = &res
	}
	s.render(w, r, http.StatusOK, "admin_audit", view{Title: "Audit log", Nav: "admin", Data: v})
}

// handleAdminAuditExport sends the audit log as CSV, oldest first. Without
// a filter it is the whole chain with its signed checkpoints, which
// `lanyard audit verify --file` checks; with one, the matching events.
func (s *Server) handleAdminAuditExport(w http.ResponseWriter, r *http.Request) {
	f, _ := auditFilter(r)
	var events []*lanyard.AuditEvent
	var cps []*lanyard.AuditCheckpoint
	var err error
	if filtered(f) || s.AuditChain == nil {
		f.Limit, f.BeforeID = 100_000, 0
		if events, err = s.Audit.FindAuditEvents(r.Context(), f); err == nil {
			slices.Reverse(events)
		}
	} else {
		err = auditlog.Chain(r.Context(), s.AuditChain)
		if err == nil {
			cps, err = s.AuditChain.AuditCheckpoints(r.Context())
		}
		if err == nil {
			err = s.AuditChain.EachAuditEvent(r.Context(), func(e *lanyard.AuditEvent) error {
				events = append(events, e)
				return nil
			})
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="lanyard-audit-`+time.Now().UTC().Format("20060102-150405")+`.csv"`)
	cw, err := auditlog.NewCSVWriter(w)
	for _, c := range cps {
		if err == nil {
			err = cw.Checkpoint(c)
		}
	}
	for _, e := range events {
		if err == nil {
			err = cw.Event(e)
		}
	}
	if err == nil {
		err = cw.Flush()
	}
	if err != nil {
		s.Logger.Error("export audit log", "err", err)
	}
}
