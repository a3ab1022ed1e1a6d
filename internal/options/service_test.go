package options_test

import (
	"context"
	"testing"

	"github.com/lanyard-id/lanyard"
	"github.com/lanyard-id/lanyard/internal/options"
)

// scripts is a store of one current script per process that counts its
// reads.
type scripts struct {
	lanyard.OptionScriptStore
	current map[string]*lanyard.OptionScript
	reads   int
}

func (s *scripts) CurrentScript(_ context.Context, process string) (*lanyard.OptionScript, error) {
	s.reads++
	if sc := s.current[process]; sc != nil {
		return sc, nil
	}
	return nil, lanyard.Errorf(lanyard.ENOTFOUND, "There is no such option script.")
}

// TestRecent: Recent gives the script Current read last without reading,
// reads when Current has read none, and follows Current to whatever it
// reads next, newer or older.
func TestRecent(t *testing.T) {
	ctx := context.Background()
	const process = options.MobileIDSelfServiceProcGet
	store := &scripts{current: map[string]*lanyard.OptionScript{process: {Process: process, Version: 1}}}
	s := &options.Service{Store: store, Engine: options.New(options.Config{})}
	version := func(read func(context.Context, string) (*lanyard.OptionScript, error)) int {
		t.Helper()
		sc, err := read(ctx, process)
		if err != nil {
			t.Fatal(err)
		}
		return sc.Version
	}
	steps := []struct {
		name        string
		save        int // the version made current first, if not 0
		read        func(context.Context, string) (*lanyard.OptionScript, error)
		want, reads int
	}{
		{"recent, none read yet", 0, s.Recent, 1, 1},
		{"recent again", 0, s.Recent, 1, 1},
		{"saved elsewhere: recent does not know", 2, s.Recent, 1, 1},
		{"current", 0, s.Current, 2, 2},
		{"recent after current", 0, s.Recent, 2, 2},
		{"restored to an older version", 1, s.Current, 1, 3},
		{"recent after the restore", 0, s.Recent, 1, 3},
	}
	for _, st := range steps {
		if st.save != 0 {
			store.current[process] = &lanyard.OptionScript{Process: process, Version: st.save}
		}
		if got := version(st.read); got != st.want || store.reads != st.reads {
			t.Errorf("%s: version %d after %d reads, want %d after %d", st.name, got, store.reads, st.want, st.reads)
		}
	}
}
