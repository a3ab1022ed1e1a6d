package mobileid

import "testing"

func TestTextToHTML(t *testing.T) {
	got := textToHTML("Hello <Alice> & co,\n\nline one\nline two\n")
	want := "<p>Hello &lt;Alice&gt; &amp; co,</p><p>line one<br>line two</p>"
	if got != want {
		t.Fatalf("textToHTML = %q, want %q", got, want)
	}
}
