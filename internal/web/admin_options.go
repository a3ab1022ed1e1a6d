package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
)

// maxScriptBytes bounds a submitted script; the engine refuses more anyway.
const maxScriptBytes = 64 << 10

type optionsListView struct {
	Scripts []*lanyard.OptionScript
}

func (s *Server) handleAdminOptions(w http.ResponseWriter, r *http.Request) {
	var v optionsListView
	for _, p := range options.Processes() {
		sc, err := s.Options.Current(r.Context(), p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Scripts = append(v.Scripts, sc)
	}
	s.render(w, r, http.StatusOK, "admin_options", view{Title: "Options", Nav: "admin", Data: v})
}

// optionView is the editor of one process's script.
type optionView struct {
	Process  string
	Source   string
	Version  int  // the version shown in the editor
	Edited   bool // the editor holds a submitted, unsaved script
	Current  int
	User     string
	DryRun   []optionValue
	Versions []*lanyard.OptionScript
}

type optionValue struct{ Name, Value string }

func (s *Server) handleAdminOption(w http.ResponseWriter, r *http.Request) {
	process := r.PathValue("process")
	cur, err := s.Options.Current(r.Context(), process)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := optionView{Process: process, Source: cur.Source, Version: cur.Version, Current: cur.Version}
	if n, err := strconv.Atoi(r.URL.Query().Get("version")); err == nil && n != cur.Version {
		old, err := s.Options.Store.FindScript(r.Context(), process, n)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Source, v.Version = old.Source, old.Version
	}
	f := s.takeFlash(w, r)
	s.renderOption(w, r, http.StatusOK, v, f.Notice, f.Error)
}

func (s *Server) renderOption(w http.ResponseWriter, r *http.Request, status int, v optionView, notice, errMsg string) {
	versions, err := s.Options.Versions(r.Context(), v.Process)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Versions = versions
	if v.Current == 0 && len(versions) > 0 {
		v.Current = versions[0].Version
	}
	s.render(w, r, status, "admin_option", view{Title: "Options: " + v.Process, Nav: "admin", Notice: notice, Error: errMsg, Data: v})
}

// handleAdminOptionPost validates, dry-runs or saves the submitted script,
// by the button pressed.
func (s *Server) handleAdminOptionPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxScriptBytes+maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, "The form could not be read; is the script over 64 kB?")
		return
	}
	process := r.PathValue("process")
	cur, err := s.Options.Current(r.Context(), process)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := optionView{Process: process, Source: options.NormalizeSource(r.PostForm.Get("source")), User: truncate(r.PostForm.Get("user"), 200),
		Current: cur.Version, Edited: true}
	failed := func(err error) {
		if lanyard.ErrorCode(err) == lanyard.EINTERNAL {
			s.serverError(w, r, err)
			return
		}
		s.renderOption(w, r, statusOf(err), v, "", lanyard.ErrorMessage(err))
	}
	switch r.PostForm.Get("action") {
	case "validate":
		if err := s.Options.Validate(process, v.Source); err != nil {
			failed(err)
			return
		}
		s.renderOption(w, r, http.StatusOK, v, "The script is valid.", "")
	case "dryrun":
		if v.User == "" {
			s.renderOption(w, r, http.StatusBadRequest, v, "", "Enter the username to dry-run the script for.")
			return
		}
		result, err := s.Options.DryRun(r.Context(), process, v.Source, v.User)
		if err != nil {
			failed(err)
			return
		}
		for name, val := range result {
			v.DryRun = append(v.DryRun, optionValue{name, fmt.Sprint(val)})
		}
		slices.SortFunc(v.DryRun, func(a, b optionValue) int { return cmp.Compare(a.Name, b.Name) })
		s.renderOption(w, r, http.StatusOK, v, "Dry run for "+v.User+":", "")
	case "save":
		sc, warning, err := s.Options.Save(r.Context(), actor(r), process, v.Source, v.User)
		if err != nil {
			failed(err)
			return
		}
		s.redirectFlash(w, r, "/admin/options/"+url.PathEscape(process), lanyard.Flash{
			Notice: fmt.Sprintf("Saved version %d. It applies to the next process started.", sc.Version), Error: warning})
	default:
		s.renderOption(w, r, http.StatusBadRequest, v, "", "Choose Validate, Dry run or Save.")
	}
}

func (s *Server) handleAdminOptionRestore(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	process := r.PathValue("process")
	n, err := strconv.Atoi(r.PostForm.Get("version"))
	if err != nil {
		s.renderError(w, r, http.StatusBadRequest, "Choose a version to restore.")
		return
	}
	sc, err := s.Options.Restore(r.Context(), actor(r), process, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice := fmt.Sprintf("Version %d restored as version %d.", n, sc.Version)
	s.redirectNotice(w, r, "/admin/options/"+url.PathEscape(process), notice)
}
