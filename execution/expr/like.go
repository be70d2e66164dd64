package expr

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/qerr"
)

// likeKind selects the matcher for a compiled LIKE pattern.
type likeKind int

const (
	likeExact    likeKind = iota // 'abc'
	likePrefix                   // 'abc%'
	likeSuffix                   // '%abc'
	likeContains                 // '%abc%'
	likeSegments                 // only % wildcards: 'a%b%c'
	likeGeneral                  // has _
)

// likeToken is one element of a general pattern: a literal, '_' or '%'.
type likeToken struct {
	lit      string
	any, one bool
}

// likePattern is a LIKE pattern compiled once.
type likePattern struct {
	kind     likeKind
	lit      string
	segs     []string // likeSegments: literals between %, with lead/trail flags
	lead     bool     // pattern starts with %
	trail    bool     // pattern ends with %
	tokens   []likeToken
	hasOneCh bool
}

// compileLike parses pattern with escape character esc (-1 = none).
func compileLike(pattern string, esc rune) *likePattern {
	var toks []likeToken
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, likeToken{lit: lit.String()})
			lit.Reset()
		}
	}
	p := &likePattern{}
	for i := 0; i < len(pattern); {
		r, w := utf8.DecodeRuneInString(pattern[i:])
		switch {
		case r == esc && i+w < len(pattern):
			r2, w2 := utf8.DecodeRuneInString(pattern[i+w:])
			lit.WriteRune(r2)
			i += w + w2
			continue
		case r == '%':
			flush()
			if len(toks) == 0 || !toks[len(toks)-1].any {
				toks = append(toks, likeToken{any: true})
			}
		case r == '_':
			flush()
			toks = append(toks, likeToken{one: true})
			p.hasOneCh = true
		default:
			lit.WriteString(pattern[i : i+w])
		}
		i += w
	}
	flush()
	p.tokens = toks
	if p.hasOneCh {
		p.kind = likeGeneral
		return p
	}
	p.lead = len(toks) > 0 && toks[0].any
	p.trail = len(toks) > 0 && toks[len(toks)-1].any
	for _, t := range toks {
		if !t.any {
			p.segs = append(p.segs, t.lit)
		}
	}
	switch {
	case len(toks) == 0:
		p.kind, p.lit = likeExact, ""
	case len(p.segs) == 0:
		p.kind = likeContains // only %: matches everything
	case len(p.segs) == 1 && !p.lead && !p.trail:
		p.kind, p.lit = likeExact, p.segs[0]
	case len(p.segs) == 1 && !p.lead:
		p.kind, p.lit = likePrefix, p.segs[0]
	case len(p.segs) == 1 && !p.trail:
		p.kind, p.lit = likeSuffix, p.segs[0]
	case len(p.segs) == 1:
		p.kind, p.lit = likeContains, p.segs[0]
	default:
		p.kind = likeSegments
	}
	return p
}

func (p *likePattern) match(s string) bool {
	switch p.kind {
	case likeExact:
		return s == p.lit
	case likePrefix:
		return strings.HasPrefix(s, p.lit)
	case likeSuffix:
		return strings.HasSuffix(s, p.lit)
	case likeContains:
		return strings.Contains(s, p.lit)
	case likeSegments:
		return p.matchSegments(s)
	}
	return matchTokens(p.tokens, s)
}

// matchSegments matches %-only patterns: greedy leftmost search of each
// middle literal is exact when there is no '_'.
func (p *likePattern) matchSegments(s string) bool {
	segs := p.segs
	if !p.lead {
		if !strings.HasPrefix(s, segs[0]) {
			return false
		}
		s, segs = s[len(segs[0]):], segs[1:]
	}
	var last string
	if !p.trail {
		last = segs[len(segs)-1]
		segs = segs[:len(segs)-1]
	}
	for _, g := range segs {
		i := strings.Index(s, g)
		if i < 0 {
			return false
		}
		s = s[i+len(g):]
	}
	if !p.trail {
		return strings.HasSuffix(s, last)
	}
	return true
}

// matchTokens is the general matcher (with '_'), backtracking on '%' only
// to the most recent one, which is linear enough for LIKE patterns.
func matchTokens(toks []likeToken, s string) bool {
	starTok, starPos := -1, 0
	ti, si := 0, 0
	for {
		if ti < len(toks) {
			t := toks[ti]
			switch {
			case t.any:
				starTok, starPos = ti, si
				ti++
				continue
			case t.one:
				if si < len(s) {
					_, w := utf8.DecodeRuneInString(s[si:])
					si += w
					ti++
					continue
				}
			default:
				if strings.HasPrefix(s[si:], t.lit) {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTok < 0 || starPos >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starPos:])
		starPos += w
		ti, si = starTok+1, starPos
	}
}

// likeEscape reads the ESCAPE argument of a call (default backslash).
func likeEscape(c *Call) (rune, error) {
	if len(c.Args) < 3 {
		return '\\', nil
	}
	lit, ok := c.Args[2].(*Literal)
	if !ok {
		return 0, qerr.New(qerr.InvalidArgument, "Incorrect arguments to ESCAPE")
	}
	s, ok := constString(lit.Value)
	if !ok || utf8.RuneCountInString(s) > 1 {
		return 0, qerr.New(qerr.InvalidArgument, "Incorrect arguments to ESCAPE")
	}
	if s == "" {
		return -1, nil
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r, nil
}

func bindLike(c *Call) (kernelFn, error) {
	esc, err := likeEscape(c)
	if err != nil {
		return nil, err
	}
	var fixed *likePattern
	if lit, ok := c.Args[1].(*Literal); ok {
		if s, ok := constString(lit.Value); ok {
			fixed = compileLike(s, esc)
			c.consume(1)
		}
	}
	if len(c.Args) == 3 {
		c.consume(2)
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		str := stringValues(args[0])
		var pat func(int) string
		used := args[:1]
		if fixed == nil {
			pat, used = stringValues(args[1]), args[:2]
		}
		p := fixed
		lastPat := ""
		return mapBoolsValid(ec, used, func(i int) bool {
			if fixed == nil {
				if ps := pat(i); p == nil || ps != lastPat {
					p, lastPat = compileLike(ps, esc), ps
				}
			}
			return p.match(str(i))
		}), nil
	}, nil
}

// mapBoolsValid builds a boolean result over the rows where all args are
// valid (others NULL).
func mapBoolsValid(ec *evalCtx, args []arrow.Array, f func(i int) bool) arrow.Array {
	n := ec.n
	vbuf := mergeValidity(ec.mem, n, args...)
	vbits := bitsOf(vbuf)
	dbuf, out := newBitmap(ec.mem, n)
	for i := 0; i < n; i++ {
		if valid(vbits, i) && f(i) {
			out[i>>3] |= 1 << (i & 7)
		}
	}
	return makeArray(tBool, n, vbuf, dbuf)
}

func bindRegexp(c *Call) (kernelFn, error) {
	var fixed *regexp.Regexp
	if lit, ok := c.Args[1].(*Literal); ok {
		if s, ok := constString(lit.Value); ok {
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, qerr.New(qerr.InvalidArgument, "Got error '%s' from regexp", err)
			}
			fixed = re
			c.consume(1)
		}
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		if _, ok := args[0].(*array.Null); ok {
			return allNull(ec.mem, tBool, ec.n), nil
		}
		str := stringValues(args[0])
		var pat func(int) string
		used := args[:1]
		if fixed == nil {
			pat, used = stringValues(args[1]), args
		}
		re, lastPat := fixed, ""
		var rerr error
		out := mapBoolsValid(ec, used, func(i int) bool {
			if fixed == nil && rerr == nil {
				if ps := pat(i); re == nil || ps != lastPat {
					r, err := regexp.Compile(ps)
					if err != nil {
						rerr = qerr.New(qerr.InvalidArgument, "Got error '%s' from regexp", err)
						return false
					}
					re, lastPat = r, ps
				}
			}
			return rerr == nil && re.MatchString(str(i))
		})
		if rerr != nil {
			out.Release()
			return nil, rerr
		}
		return out, nil
	}, nil
}
