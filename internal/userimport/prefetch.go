package userimport

// prefetch reads a source ahead in its own goroutine, so that reading and
// checking the next rows overlaps the store's insert of the last ones.
type prefetch struct {
	out        chan fetched
	stop, done chan struct{}
	last       fetched
}

// fetched is what one call of a source's next returned.
type fetched struct {
	r       row
	problem string
	err     error
}

func newPrefetch(src rowSource) *prefetch {
	p := &prefetch{out: make(chan fetched, 2*streamBatch), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			r, problem, err := src.next()
			select {
			case p.out <- fetched{r, problem, err}:
			case <-p.stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

// next returns what the source's next returned, in the same order, and
// the source's error again after it ended.
func (p *prefetch) next() (row, string, error) {
	if p.last.err != nil {
		return row{}, "", p.last.err
	}
	p.last = <-p.out
	return p.last.r, p.last.problem, p.last.err
}

// Close stops the reader and waits for it: the source is not read after
// it returns.
func (p *prefetch) Close() {
	close(p.stop)
	<-p.done
}
