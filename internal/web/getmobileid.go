package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/mobileid"
)

// The "Get mobile ID" process (MobileIDSelfServiceProcGet): step one is
// /mobile-id/get; from its Next on, the process has an ID and each step is
// shown at /mobile-id/get/{process}. Every step re-checks the user's state
// in the service, and a repeated POST (Back, refresh) finds the process
// further on and changes nothing.

type introView struct {
	*mobileid.Intro
	UsageText map[lanyard.CertificateUsage]string
}

var usageText = map[lanyard.CertificateUsage]string{
	lanyard.UsageSignature:      "Signature certificate — sign documents and mail (key made on your phone)",
	lanyard.UsageAuthentication: "Authentication certificate — log in to services (key made on your phone)",
	lanyard.UsageEncryption:     "Encryption certificate — read mail encrypted to you (key made by the server and archived for recovery)",
}

func (s *Server) handleGetIntro(w http.ResponseWriter, r *http.Request) {
	in, err := s.MobileIDs.Intro(r.Context(), actor(r), currentUser(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "get_intro", view{Title: "Get Mobile ID", Nav: "mobileid",
		Data: introView{Intro: in, UsageText: usageText}})
}

func (s *Server) handleGetStart(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		s.audit(r, "mobileid.process_cancel", mobileid.GetProcess, "cancelled at the introduction")
		s.redirectNotice(w, r, "/", "Get Mobile ID was cancelled. Nothing was issued.")
		return
	}
	req := mobileid.StartRequest{LockExisting: r.PostForm.Get("action") == "lock"}
	for _, u := range r.PostForm["usage"] {
		req.Usages = append(req.Usages, lanyard.CertificateUsage(u))
	}
	e, err := s.MobileIDs.Start(r.Context(), actor(r), currentUser(r), req)
	switch lanyard.ErrorCode(err) {
	case "":
	case lanyard.EINVALID, lanyard.ECONFLICT:
		s.redirectError(w, r, "/mobile-id/get", lanyard.ErrorMessage(err))
		return
	default:
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/mobile-id/get/"+e.PublicID, http.StatusSeeOther)
}

type recoveryView struct {
	Process  *lanyard.Enrollment
	Archived []*lanyard.Certificate
}

type activationView struct {
	*mobileid.Activation
	QR    template.URL // data: URL of the PNG, made here, never from input
	Email string
}

// handleGetStep shows the step the process stands at.
func (s *Server) handleGetStep(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r)
	e, err := s.MobileIDs.Process(r.Context(), u, r.PathValue("process"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch e.Step {
	case lanyard.StepRecovery:
		archived, err := s.MobileIDs.Certs.FindArchivedCertificates(r.Context(), u.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "get_recovery", view{Title: "Get Mobile ID", Nav: "mobileid",
			Data: recoveryView{Process: e, Archived: archived}})
	case lanyard.StepActivation:
		a, err := s.MobileIDs.ActivateProcess(r.Context(), actor(r), e, u)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v := activationView{Activation: a, Email: u.Email}
		if a.Link != "" {
			png, err := mobileid.QRCode(a.Link)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		}
		s.render(w, r, http.StatusOK, "get_activation", view{Title: "Get Mobile ID", Nav: "mobileid", Data: v})
	case lanyard.StepFinished:
		http.Redirect(w, r, "/mobile-id", http.StatusSeeOther)
	default:
		s.renderError(w, r, http.StatusConflict, "This process has ended ("+string(e.Step)+"). Start again from the dashboard.")
	}
}

func (s *Server) handleGetRecovery(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r, maxFormBytes) {
		return
	}
	pid := r.PathValue("process")
	if r.PostForm.Get("action") == "cancel" {
		s.handleGetCancel(w, r)
		return
	}
	_, err := s.MobileIDs.ChooseRecovery(r.Context(), actor(r), currentUser(r), pid, r.PostForm["serial"])
	if lanyard.ErrorCode(err) == lanyard.EINVALID {
		s.redirectError(w, r, "/mobile-id/get/"+url.PathEscape(pid), lanyard.ErrorMessage(err))
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/mobile-id/get/"+url.PathEscape(pid), http.StatusSeeOther)
}

func (s *Server) handleGetFinish(w http.ResponseWriter, r *http.Request) {
	state, err := s.MobileIDs.Finish(r.Context(), actor(r), currentUser(r), r.PathValue("process"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	notice := "Your mobile ID is active."
	if state == lanyard.MobileIDRegistered {
		notice = "Your mobile ID is registered and waits for the app: scan the QR code before it expires."
	}
	s.redirectNotice(w, r, "/mobile-id", notice)
}

func (s *Server) handleGetCancel(w http.ResponseWriter, r *http.Request) {
	if err := s.MobileIDs.Cancel(r.Context(), actor(r), currentUser(r).ID, r.PathValue("process")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirectNotice(w, r, "/", "Get Mobile ID was cancelled. Nothing was issued.")
}
