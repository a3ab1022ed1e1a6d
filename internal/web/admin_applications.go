package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/oidc"
)

// Admin › Applications: the applications that log their users in through
// Lanyard's OpenID Connect provider.

type adminApplicationsView struct {
	Issuer     string
	Clients    []*oidc.Client
	Algorithms []string
	New        oidc.NewClient
}

func (s *Server) handleAdminApplications(w http.ResponseWriter, r *http.Request) {
	s.renderApplications(w, r, http.StatusOK, "", oidc.NewClient{})
}

func (s *Server) renderApplications(w http.ResponseWriter, r *http.Request, status int, msg string, n oidc.NewClient) {
	cs, err := s.OIDC.Clients(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "admin_applications", view{Title: "Applications", Nav: "admin", Error: msg,
		Data: adminApplicationsView{Issuer: s.OIDC.Issuer(), Clients: cs, Algorithms: oidc.Algorithms, New: n}})
}

// clientForm reads the fields an application is added or edited with.
func clientForm(r *http.Request) oidc.NewClient {
	f := r.PostForm
	return oidc.NewClient{
		Name:                   f.Get("name"),
		RedirectURIs:           strings.Fields(f.Get("redirect_uris")),
		PostLogoutRedirectURIs: strings.Fields(f.Get("post_logout_redirect_uris")),
		Public:                 f.Get("public") == "on",
		AllowPassword:          f.Get("allow_password") == "on",
		RefreshTokens:          f.Get("refresh_tokens") == "on",
		IDTokenAlg:             f.Get("id_token_alg"),
	}
}

// secretView shows a client secret once.
type secretView struct {
	Client *oidc.Client
	Secret string
	New    bool
}

func (s *Server) handleAdminApplicationAdd(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	n := clientForm(r)
	c, sec, err := s.OIDC.AddClient(r.Context(), actor(r), n)
	if err != nil {
		if statusOf(err) == http.StatusInternalServerError {
			s.serverError(w, r, err)
			return
		}
		s.renderApplications(w, r, statusOf(err), lanyard.ErrorMessage(err), n)
		return
	}
	s.render(w, r, http.StatusOK, "admin_application_secret", view{Title: "Application added", Nav: "admin", Data: secretView{Client: c, Secret: sec, New: true}})
}

type adminApplicationView struct {
	Client     *oidc.Client
	Algorithms []string
}

func (s *Server) handleAdminApplication(w http.ResponseWriter, r *http.Request) {
	c, err := s.OIDC.Client(r.Context(), r.PathValue("client"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_application", view{Title: c.Name, Nav: "admin", Data: adminApplicationView{Client: c, Algorithms: oidc.Algorithms}})
}

func (s *Server) handleAdminApplicationSave(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	c, err := s.OIDC.UpdateClient(r.Context(), actor(r), r.PathValue("client"), clientForm(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirectNotice(w, r, "/admin/applications/"+url.PathEscape(c.ClientID), "Saved.")
}

func (s *Server) handleAdminApplicationSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("client")
	sec, err := s.OIDC.RotateSecret(r.Context(), actor(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.OIDC.Client(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_application_secret", view{Title: "New client secret", Nav: "admin", Data: secretView{Client: c, Secret: sec}})
}

func (s *Server) handleAdminApplicationState(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	id := r.PathValue("client")
	disable := r.PostForm.Get("disabled") == "true"
	if err := s.OIDC.SetClientDisabled(r.Context(), actor(r), id, disable); err != nil {
		s.fail(w, r, err)
		return
	}
	msg := "Enabled."
	if disable {
		msg = "Disabled: the application's tokens are revoked and its logins refused."
	}
	s.redirectNotice(w, r, "/admin/applications/"+url.PathEscape(id), msg)
}

func (s *Server) handleAdminApplicationDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.OIDC.DeleteClient(r.Context(), actor(r), r.PathValue("client")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirectNotice(w, r, "/admin/applications", "Application deleted.")
}
