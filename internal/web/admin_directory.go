package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/lanyard-id/lanyard"
)

// DirectorySyncer is the LDAP directory sync as Admin › Directory uses it.
type DirectorySyncer interface {
	// Sync syncs now (or only says what it would change); by names who asked.
	Sync(ctx context.Context, by string, dryRun bool) (*lanyard.DirectoryRun, error)
	// Runs returns the records of the latest syncs, newest first.
	Runs(ctx context.Context, limit int) ([]*lanyard.DirectoryRun, error)
	// ReadyDetail says in one line how the directory is doing.
	ReadyDetail() string
}

type adminDirectoryView struct {
	Enabled  bool
	Status   string
	Runs     []*lanyard.DirectoryRun
	Selected *lanyard.DirectoryRun
}

func (s *Server) handleAdminDirectory(w http.ResponseWriter, r *http.Request) {
	v := adminDirectoryView{Enabled: s.Directory != nil}
	if s.Directory != nil {
		v.Status = s.Directory.ReadyDetail()
		runs, err := s.Directory.Runs(r.Context(), 20)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Runs = runs
		want, _ := strconv.ParseInt(r.URL.Query().Get("run"), 10, 64)
		for _, run := range runs {
			if run.ID == want || (want == 0 && v.Selected == nil) {
				v.Selected = run
			}
		}
	}
	s.render(w, r, http.StatusOK, "admin_directory", view{Title: "Directory", Nav: "admin", Data: v})
}

// handleAdminDirectorySync syncs now, or with dry=1 shows what a sync would
// change; either way the page then shows that run.
func (s *Server) handleAdminDirectorySync(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	if s.Directory == nil {
		s.renderError(w, r, http.StatusNotFound, "No directory is configured.")
		return
	}
	dry := r.PostForm.Get("dry") == "1"
	// A sync is not abandoned half way because the browser went away.
	run, err := s.Directory.Sync(context.WithoutCancel(r.Context()), currentUser(r).Username, dry)
	notice := run.Result.Summary()
	if dry {
		notice = "Dry run, nothing changed: " + notice
	}
	if err != nil {
		notice = "The sync failed and changed nothing: " + run.Error
	}
	s.redirectNotice(w, r, "/admin/directory?run="+strconv.FormatInt(run.ID, 10), notice)
}
