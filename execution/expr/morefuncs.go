package expr

import (
	"encoding/base64"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // CONVERT_TZ with named zones on hosts without zoneinfo
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/qerr"
)

// REGEXP_SUBSTR/INSTR/REPLACE, YEARWEEK, TO_SECONDS, PERIOD_ADD/DIFF,
// BIT_LENGTH, BIT_COUNT, INET_ATON/INET_NTOA, TIME_FORMAT, TO_BASE64,
// FROM_BASE64, CONVERT_TZ.

// regexpArg is a pattern argument: compiled once when it is a literal (the
// argument is then consumed), else per distinct row value.
type regexpArg struct {
	fixed *regexp.Regexp
	idx   int
}

func newRegexpArg(c *Call, idx int) (regexpArg, error) {
	ra := regexpArg{idx: idx}
	if lit, ok := c.Args[idx].(*Literal); ok {
		if s, ok := constString(lit.Value); ok {
			re, err := compileRegexp(s)
			if err != nil {
				return ra, err
			}
			ra.fixed = re
			c.consume(idx)
		}
	}
	return ra, nil
}

func compileRegexp(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, qerr.New(qerr.InvalidArgument, "Got error '%s' from regexp", err)
	}
	return re, nil
}

// rows returns the pattern of each row for one evaluation (the cache of the
// last compiled pattern is per evaluation: kernels run concurrently).
func (r regexpArg) rows(args []arrow.Array) func(i int) (*regexp.Regexp, error) {
	if r.fixed != nil {
		return func(int) (*regexp.Regexp, error) { return r.fixed, nil }
	}
	vals := stringValues(args[r.idx])
	var last string
	var cur *regexp.Regexp
	return func(i int) (*regexp.Regexp, error) {
		if s := vals(i); cur == nil || s != last {
			re, err := compileRegexp(s)
			if err != nil {
				return nil, err
			}
			cur, last = re, s
		}
		return cur, nil
	}
}

// present drops consumed (nil) arguments, for validity merging.
func present(args []arrow.Array) []arrow.Array {
	out := make([]arrow.Array, 0, len(args))
	for _, a := range args {
		if a != nil {
			out = append(out, a)
		}
	}
	return out
}

// regexpMatches returns the matches (with submatches, as byte offsets from
// the start position) of re in s from 1-based character position pos, and
// the byte offset of that position; ok=false when pos is out of range.
func regexpMatches(re *regexp.Regexp, s string, pos int64) ([][]int, int, bool) {
	if pos < 1 || pos-1 > int64(utf8.RuneCountInString(s)) {
		return nil, 0, false
	}
	st := charPos(s, pos-1)
	return re.FindAllStringSubmatchIndex(s[st:], -1), st, true
}

// optInt reads optional integer argument k of row i (def when absent).
func optInt(ra rowArgs, k, i int, def int64) int64 {
	if k < len(ra.ints) && ra.ints[k] != nil {
		return ra.ints[k][i]
	}
	return def
}

// bindRegexpFn implements REGEXP_SUBSTR(s, pat[, pos[, occurrence]]),
// REGEXP_INSTR(s, pat[, pos[, occurrence[, return_end]]]) and
// REGEXP_REPLACE(s, pat, repl[, pos[, occurrence]]) (occurrence 0 = all).
// Patterns are RE2 syntax, case sensitive like every comparison here.
func bindRegexpFn(c *Call) (kernelFn, error) {
	pat, err := newRegexpArg(c, 1)
	if err != nil {
		return nil, err
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		if anyNullType(args) {
			return allNull(ec.mem, ec.call.Type, ec.n), nil
		}
		ra := argsOf(args)
		res := pat.rows(args)
		var rerr error
		match := func(i, posArg int) ([][]int, int, string, bool) {
			re, err := res(i)
			if err != nil {
				rerr = err
				return nil, 0, "", false
			}
			s := ra.strs[0](i)
			m, off, ok := regexpMatches(re, s, optInt(ra, posArg, i, 1))
			return m, off, s, ok
		}
		var out arrow.Array
		switch ec.call.Name {
		case "regexp_substr":
			out = mapString(ec, present(args), func(buf []byte, i int) ([]byte, bool) {
				m, off, s, ok := match(i, 2)
				occ := optInt(ra, 3, i, 1)
				if !ok || occ < 1 || occ > int64(len(m)) {
					return buf, false
				}
				return append(buf, s[off+m[occ-1][0]:off+m[occ-1][1]]...), true
			})
		case "regexp_instr":
			out = mapInt(ec, present(args), func(i int) (int64, bool) {
				m, off, s, ok := match(i, 2)
				occ := optInt(ra, 3, i, 1)
				if !ok || occ < 1 || occ > int64(len(m)) {
					return 0, rerr == nil
				}
				at := off + m[occ-1][0]
				if optInt(ra, 4, i, 0) != 0 {
					at = off + m[occ-1][1]
				}
				return int64(utf8.RuneCountInString(s[:at])) + 1, true
			})
		default: // regexp_replace
			out = mapString(ec, present(args), func(buf []byte, i int) ([]byte, bool) {
				m, off, s, ok := match(i, 3)
				if !ok {
					return append(buf, s...), rerr == nil
				}
				re, _ := res(i)
				occ := optInt(ra, 4, i, 0)
				repl := ra.strs[2](i)
				buf = append(buf, s[:off]...)
				last := off
				for k, mm := range m {
					if occ != 0 && int64(k+1) != occ {
						continue
					}
					buf = append(buf, s[last:off+mm[0]]...)
					buf = re.ExpandString(buf, repl, s[off:], mm)
					last = off + mm[1]
				}
				return append(buf, s[last:]...), true
			})
		}
		if rerr != nil {
			out.Release()
			return nil, rerr
		}
		return out, nil
	}, nil
}

// periodMonths converts a YYMM/YYYYMM period to months since year 0.
func periodMonths(p int64) int64 {
	if p == 0 {
		return 0
	}
	y := twoDigitYear(p / 100)
	return y*12 + p%100 - 1
}

func monthsPeriod(m int64) int64 {
	if m <= 0 {
		return 0
	}
	return m/12*100 + m%12 + 1
}

// inetAton is MySQL INET_ATON: a dotted IPv4 address, where a short form
// puts the last part in the low bytes ('127.1' = 127.0.0.1).
func inetAton(s string) (int64, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 || s == "" {
		return 0, false
	}
	var v int64
	for k, p := range parts {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return 0, false
		}
		if k == len(parts)-1 {
			v = v<<(8*uint(5-len(parts))) | int64(n)
			continue
		}
		v = v<<8 | int64(n)
	}
	return v, true
}

func inetNtoa(buf []byte, v int64) ([]byte, bool) {
	if v < 0 || v > 0xFFFFFFFF {
		return buf, false
	}
	for sh := 24; sh >= 0; sh -= 8 {
		buf = strconv.AppendInt(buf, v>>sh&0xFF, 10)
		if sh > 0 {
			buf = append(buf, '.')
		}
	}
	return buf, true
}

// resolveTimeFormat types TIME_FORMAT(t, fmt): a string argument is a TIME.
func resolveTimeFormat(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := temporalArg(in[0], true)
	if isStr(in[0]) || isNull(in[0]) {
		t = tTime
	}
	return Signature{Args: []arrow.DataType{t, tString}, Return: tString}, nil
}

// toBase64 is MySQL TO_BASE64: standard base64, a newline after every 76
// output characters.
func toBase64(buf []byte, s string) []byte {
	enc := base64.StdEncoding.AppendEncode(nil, []byte(s))
	for len(enc) > 76 {
		buf = append(append(buf, enc[:76]...), '\n')
		enc = enc[76:]
	}
	return append(buf, enc...)
}

// fromBase64 decodes TO_BASE64 output (whitespace ignored); NULL when
// invalid.
func fromBase64(buf []byte, s string) ([]byte, bool) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, s)
	out, err := base64.StdEncoding.AppendDecode(buf, []byte(clean))
	return out, err == nil
}

// tzCache caches CONVERT_TZ zones by name (nil = unknown), bounded so that
// a column of distinct junk names cannot grow it without limit.
var tzCache = struct {
	sync.Mutex
	m map[string]*time.Location
}{m: map[string]*time.Location{}}

const maxTZCache = 512

// zoneOf reads a CONVERT_TZ zone: '+hh:mm'/'-hh:mm' (-13:59..+14:00),
// 'SYSTEM', or a named zone.
func zoneOf(name string) *time.Location {
	tzCache.Lock()
	loc, ok := tzCache.m[name]
	tzCache.Unlock()
	if ok {
		return loc
	}
	switch {
	case strings.EqualFold(name, "SYSTEM"):
		loc = time.Local
	case len(name) > 1 && (name[0] == '+' || name[0] == '-'):
		h, m, ok := strings.Cut(name[1:], ":")
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		off := hh*60 + mm
		if name[0] == '-' {
			off = -off
		}
		if ok && err1 == nil && err2 == nil && mm < 60 && off > -14*60 && off <= 14*60 {
			loc = time.FixedZone(name, off*60)
		}
	default:
		if l, err := time.LoadLocation(name); err == nil {
			loc = l
		}
	}
	tzCache.Lock()
	if len(tzCache.m) < maxTZCache {
		tzCache.m[name] = loc
	}
	tzCache.Unlock()
	return loc
}

// TIMESTAMP's range in µs since the epoch: CONVERT_TZ leaves values outside
// it unchanged (MySQL).
const minTimestampUS, maxTimestampUS = usPerSec, 2147483647 * usPerSec

// convertTZ converts a wall-clock DATETIME from one zone to another.
func convertTZ(ts int64, from, to string) (int64, bool) {
	fl, tl := zoneOf(from), zoneOf(to)
	if fl == nil || tl == nil {
		return 0, false
	}
	days, us := splitTS(ts)
	y, mo, d := civilFromDays(days)
	secs := us / usPerSec
	t := time.Date(int(y), time.Month(mo), int(d), int(secs/3600), int(secs/60%60), int(secs%60), int(us%usPerSec)*1000, fl)
	utc := t.UnixMicro()
	if utc < minTimestampUS || utc > maxTimestampUS {
		return ts, true
	}
	_, off := t.In(tl).Zone()
	return utc + int64(off)*usPerSec, true
}

var moreKernels = map[string]binder{
	"regexp_substr": bindRegexpFn, "regexp_instr": bindRegexpFn, "regexp_replace": bindRegexpFn,
	"yearweek": tempIntKernel(func(d, _ int64, _ *evalCtx, ra rowArgs, i int) (int64, bool) {
		const weekYear = 2
		y, w := calcWeek(d, weekMode(optInt(ra, 1, i, 0))|weekYear)
		return y*100 + w, true
	}),
	"to_seconds": tempIntKernel(func(d, us int64, _ *evalCtx, _ rowArgs, _ int) (int64, bool) {
		return (d+mysqlDayZero)*86400 + us/usPerSec, true
	}),
	"period_add": intKernel(func(ra rowArgs, i int) (int64, bool) {
		return monthsPeriod(periodMonths(ra.ints[0][i]) + ra.ints[1][i]), true
	}),
	"period_diff": intKernel(func(ra rowArgs, i int) (int64, bool) {
		return periodMonths(ra.ints[0][i]) - periodMonths(ra.ints[1][i]), true
	}),
	"bit_length": intKernel(func(ra rowArgs, i int) (int64, bool) { return 8 * int64(len(ra.strs[0](i))), true }),
	"bit_count": func(c *Call) (kernelFn, error) {
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			u, ok := args[0].(*array.Uint64)
			if !ok {
				return allNull(ec.mem, tInt, ec.n), nil
			}
			v := u.Uint64Values()
			return mapInt(ec, args, func(i int) (int64, bool) { return int64(bits.OnesCount64(v[i])), true }), nil
		}, nil
	},
	"inet_aton":   intKernel(func(ra rowArgs, i int) (int64, bool) { return inetAton(ra.strs[0](i)) }),
	"inet_ntoa":   strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) { return inetNtoa(buf, ra.ints[0][i]) }),
	"time_format": bindDateFormat,
	"to_base64":   strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) { return toBase64(buf, ra.strs[0](i)), true }),
	"from_base64": func(c *Call) (kernelFn, error) {
		k, err := strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) { return fromBase64(buf, ra.strs[0](i)) })(c)
		return binaryResult(k), err
	},
	"convert_tz": func(c *Call) (kernelFn, error) {
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			if anyNullType(args) {
				return allNull(ec.mem, tTS, ec.n), nil
			}
			ts := args[0].(*array.Timestamp).TimestampValues()
			ra := argsOf(args)
			return mapInt64As(ec, tTS, args, func(i int) (int64, bool) {
				return convertTZ(int64(ts[i]), ra.strs[1](i), ra.strs[2](i))
			}), nil
		}, nil
	},
}
