package wallet

import (
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"slices"

	"github.com/lanyard-id/lanyard"
)

// Profiles returns copies of the wallet's profiles in the order they were
// added. Changing a copy changes nothing until it is passed to
// UpdateProfile.
func (w *Wallet) Profiles() []Profile {
	out := make([]Profile, len(w.profiles))
	for i, p := range w.profiles {
		out[i] = p.clone()
	}
	return out
}

// AddProfile adds a profile to the wallet and returns it with its ID
// assigned. Profile names need not be unique: re-enrolling the same user
// gives a second profile of the same name. Call Save to keep the change.
func (w *Wallet) AddProfile(p Profile) (Profile, error) {
	if err := validate(p); err != nil {
		return Profile{}, err
	}
	id := make([]byte, 16)
	rand.Read(id)
	p.ID = hex.EncodeToString(id)
	w.profiles = append(w.profiles, p.clone())
	return p.clone(), nil
}

// UpdateProfile replaces the profile with p's ID. Call Save to keep the
// change.
func (w *Wallet) UpdateProfile(p Profile) error {
	if err := validate(p); err != nil {
		return err
	}
	for i := range w.profiles {
		if w.profiles[i].ID == p.ID {
			w.profiles[i] = p.clone()
			return nil
		}
	}
	return lanyard.Errorf(lanyard.ENOTFOUND, "The wallet has no profile %q.", p.ProfileName)
}

// RemoveProfile removes the profile with the given ID, with its keys. Call
// Save to keep the change.
func (w *Wallet) RemoveProfile(id string) error {
	for i := range w.profiles {
		if w.profiles[i].ID == id {
			w.profiles = slices.Delete(w.profiles, i, i+1)
			return nil
		}
	}
	return lanyard.Errorf(lanyard.ENOTFOUND, "The wallet has no profile %q.", id)
}

// Find returns the profile whose ID or profile name is name. If several
// profiles have that name, the most recently added one that is not locked
// wins, else the most recently added one.
func (w *Wallet) Find(name string) (Profile, error) {
	found := -1
	for i, p := range w.profiles {
		if p.ID == name {
			return p.clone(), nil
		}
		if p.ProfileName == name && (found < 0 || p.State != StateLocked || w.profiles[found].State == StateLocked) {
			found = i
		}
	}
	if found < 0 {
		return Profile{}, lanyard.Errorf(lanyard.ENOTFOUND, "The wallet has no profile %q.", name)
	}
	return w.profiles[found].clone(), nil
}

// validate refuses a profile the wallet could not store or use.
func validate(p Profile) error {
	if p.ProfileName == "" {
		return lanyard.Errorf(lanyard.EINVALID, "A profile needs a profile name.")
	}
	for _, c := range p.Certificates {
		if c.Certificate == nil {
			return lanyard.Errorf(lanyard.EINVALID, "Profile %q has an empty certificate.", p.ProfileName)
		}
		switch c.Usage {
		case UsageSignature, UsageAuthentication, UsageEncryption:
		default:
			return lanyard.Errorf(lanyard.EINVALID, "Certificate usage %q is not signature, authentication or encryption.", c.Usage)
		}
		if c.Key != nil {
			pub, ok := c.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
			if !ok || !pub.Equal(c.Certificate.PublicKey) {
				return lanyard.Errorf(lanyard.EINVALID, "A key in profile %q does not belong to its certificate.", p.ProfileName)
			}
		}
	}
	for _, c := range p.CAChain {
		if c == nil {
			return lanyard.Errorf(lanyard.EINVALID, "Profile %q has an empty CA certificate.", p.ProfileName)
		}
	}
	return nil
}

// ProfileView is a profile as `lanyard-app profiles --json` prints it:
// these fields and no others, no keys.
type ProfileView struct {
	ProfileName  string            `json:"profile_name"`
	ServerName   string            `json:"server_name"`
	UserID       string            `json:"user_id"`
	State        State             `json:"state"`
	Certificates []CertificateView `json:"certificates"`
}

// CertificateView is a certificate in a ProfileView, in PEM.
type CertificateView struct {
	Usage     Usage  `json:"usage"`
	Recovered bool   `json:"recovered"`
	PEM       string `json:"pem"`
}

// View returns the profiles for display, in wallet order. It is never nil,
// so that an empty wallet prints as [].
func (w *Wallet) View() []ProfileView {
	out := []ProfileView{}
	for _, p := range w.profiles {
		v := ProfileView{ProfileName: p.ProfileName, ServerName: p.ServerName, UserID: p.UserID,
			State: p.State, Certificates: []CertificateView{}}
		for _, c := range p.Certificates {
			v.Certificates = append(v.Certificates, CertificateView{
				Usage:     c.Usage,
				Recovered: c.Recovered,
				PEM:       string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate.Raw})),
			})
		}
		out = append(out, v)
	}
	return out
}
