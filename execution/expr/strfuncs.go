package expr

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/qerr"
)

// String functions. Lengths and positions count characters (UTF-8 code
// points) except LENGTH, which counts bytes, as in MySQL.

// rowArgs gives typed zero-copy access to string and int64 arguments.
type rowArgs struct {
	strs []func(int) string
	ints [][]int64
	flts [][]float64
}

func argsOf(args []arrow.Array) rowArgs {
	ra := rowArgs{strs: make([]func(int) string, len(args)), ints: make([][]int64, len(args)), flts: make([][]float64, len(args))}
	for i, a := range args {
		switch v := a.(type) {
		case *array.String, *array.Binary:
			ra.strs[i] = stringValues(v)
		case *array.Int64:
			ra.ints[i] = v.Int64Values()
		case *array.Float64:
			ra.flts[i] = v.Float64Values()
		}
	}
	return ra
}

// mapString builds a string result over rows where all args are valid; f
// appends the value to buf and reports false for NULL.
func mapString(ec *evalCtx, args []arrow.Array, f func(buf []byte, i int) ([]byte, bool)) arrow.Array {
	n := ec.n
	v := mergeValidity(ec.mem, n, args...)
	defer release(v)
	vbits := bitsOf(v)
	b := stringBuilder(ec.mem, n, 0)
	defer b.Release()
	var buf []byte
	for i := 0; i < n; i++ {
		if !valid(vbits, i) {
			b.AppendNull()
			continue
		}
		var ok bool
		buf, ok = f(buf[:0], i)
		if !ok {
			b.AppendNull()
			continue
		}
		b.BinaryBuilder.Append(buf)
	}
	return b.NewArray()
}

// mapInt builds an int64 result over rows where all args are valid.
func mapInt(ec *evalCtx, args []arrow.Array, f func(i int) (int64, bool)) arrow.Array {
	return mapInt64As(ec, tInt, args, f)
}

// mapInt64As is mapInt for any type stored as int64 (TIME, DATETIME).
func mapInt64As(ec *evalCtx, t arrow.DataType, args []arrow.Array, f func(i int) (int64, bool)) arrow.Array {
	n := ec.n
	vbuf, vbits := validityCopy(ec.mem, n, args...)
	dbuf, out := newValues[int64](ec.mem, n)
	for i := 0; i < n; i++ {
		if !valid(vbits, i) {
			continue
		}
		r, ok := f(i)
		if !ok {
			vbits[i>>3] &^= 1 << (i & 7)
			continue
		}
		out[i] = r
	}
	return makeArray(t, n, vbuf, dbuf)
}

// strKernel adapts a row function over typed args to a kernel.
func strKernel(f func(ra rowArgs, buf []byte, i int) ([]byte, bool)) binder {
	return func(c *Call) (kernelFn, error) {
		if err := checkArgTypes(c); err != nil {
			return nil, err
		}
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			ra := argsOf(args)
			return mapString(ec, args, func(buf []byte, i int) ([]byte, bool) { return f(ra, buf, i) }), nil
		}, nil
	}
}

func intKernel(f func(ra rowArgs, i int) (int64, bool)) binder {
	return func(c *Call) (kernelFn, error) {
		if err := checkArgTypes(c); err != nil {
			return nil, err
		}
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			ra := argsOf(args)
			return mapInt(ec, args, func(i int) (int64, bool) { return f(ra, i) }), nil
		}, nil
	}
}

// bindConcat: CONCAT is NULL if any argument is NULL.
func bindConcat(c *Call) (kernelFn, error) {
	return strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		for _, s := range ra.strs {
			buf = append(buf, s(i)...)
		}
		return buf, true
	})(c)
}

// bindConcatWs: NULL separator gives NULL; NULL values are skipped.
func bindConcatWs(c *Call) (kernelFn, error) {
	if err := checkArgTypes(c); err != nil {
		return nil, err
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		ra := argsOf(args)
		return mapString(ec, args[:1], func(buf []byte, i int) ([]byte, bool) {
			sep, first := ra.strs[0](i), true
			for k := 1; k < len(args); k++ {
				if args[k].IsNull(i) || ra.strs[k] == nil {
					continue
				}
				if !first {
					buf = append(buf, sep...)
				}
				buf, first = append(buf, ra.strs[k](i)...), false
			}
			return buf, true
		}), nil
	}, nil
}

// charPos returns the byte offset of the k-th (0-based) character of s, or
// len(s) when s is shorter.
func charPos(s string, k int64) int {
	if k <= 0 {
		return 0
	}
	for i := range s {
		if k == 0 {
			return i
		}
		k--
	}
	return len(s)
}

// substrChars is MySQL SUBSTRING(s, pos, len): 1-based, negative pos counts
// from the end, pos 0 gives ”.
func substrChars(s string, pos, n int64) string {
	if pos == 0 || n <= 0 {
		return ""
	}
	cnt := int64(utf8.RuneCountInString(s))
	if pos < 0 {
		pos = cnt + pos + 1
		if pos < 1 {
			return ""
		}
	}
	if pos > cnt {
		return ""
	}
	st := charPos(s, pos-1)
	rest := s[st:]
	return rest[:charPos(rest, n)]
}

func reverseString(buf []byte, s string) []byte {
	for i := len(s); i > 0; {
		_, w := utf8.DecodeLastRuneInString(s[:i])
		buf = append(buf, s[i-w:i]...)
		i -= w
	}
	return buf
}

// padTo pads s to n characters with pad (left or right); NULL when pad is
// empty and padding is needed (MySQL).
func padTo(buf []byte, s string, n int64, pad string, left bool) ([]byte, bool) {
	if n < 0 {
		return buf, false
	}
	cnt := int64(utf8.RuneCountInString(s))
	if cnt >= n {
		return append(buf, s[:charPos(s, n)]...), true
	}
	if pad == "" {
		return buf, false
	}
	need := n - cnt
	if !left {
		buf = append(buf, s...)
	}
	for need > 0 {
		for _, r := range pad {
			if need == 0 {
				break
			}
			buf = utf8.AppendRune(buf, r)
			need--
		}
	}
	if left {
		buf = append(buf, s...)
	}
	return buf, true
}

// maxRepeat bounds REPEAT/SPACE/LPAD results (MySQL max_allowed_packet gives
// NULL beyond it).
const maxRepeat = 64 << 20

func trimMode(s, chars, mode string) string {
	if chars == "" {
		return s
	}
	if mode != "TRAILING" {
		for strings.HasPrefix(s, chars) {
			s = s[len(chars):]
		}
	}
	if mode != "LEADING" {
		for strings.HasSuffix(s, chars) {
			s = s[:len(s)-len(chars)]
		}
	}
	return s
}

// locate is MySQL LOCATE(sub, s, pos): 1-based character position, 0 if
// absent.
func locate(sub, s string, pos int64) int64 {
	if pos < 1 {
		return 0
	}
	st := charPos(s, pos-1)
	if pos > 1 && st == len(s) && int64(utf8.RuneCountInString(s)) < pos-1 {
		return 0
	}
	i := strings.Index(s[st:], sub)
	if i < 0 {
		return 0
	}
	return int64(utf8.RuneCountInString(s[:st+i])) + 1
}

// substringIndex is MySQL SUBSTRING_INDEX(s, delim, n): s before the n-th
// delimiter, or after the n-th from the end when n < 0.
func substringIndex(s, delim string, n int64) string {
	if delim == "" || n == 0 {
		return ""
	}
	if n > 0 {
		at := 0
		for ; n > 0; n-- {
			j := strings.Index(s[at:], delim)
			if j < 0 {
				return s
			}
			at += j + len(delim)
		}
		return s[:at-len(delim)]
	}
	end := len(s)
	for ; n < 0; n++ {
		j := strings.LastIndex(s[:end], delim)
		if j < 0 {
			return s
		}
		end = j
	}
	return s[end+len(delim):]
}

// findInSet is MySQL FIND_IN_SET(s, list): the 1-based position of s in the
// comma-separated list, 0 when absent, when s holds a comma or when the
// list is empty (even for an empty s).
func findInSet(s, list string) int64 {
	if list == "" || strings.Contains(s, ",") {
		return 0
	}
	pos := int64(1)
	for {
		item, rest, more := strings.Cut(list, ",")
		if item == s {
			return pos
		}
		if !more {
			return 0
		}
		list, pos = rest, pos+1
	}
}

var strKernels = map[string]binder{
	"concat":    bindConcat,
	"concat_ws": bindConcatWs,
	"upper": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return append(buf, strings.ToUpper(ra.strs[0](i))...), true
	}),
	"lower": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return append(buf, strings.ToLower(ra.strs[0](i))...), true
	}),
	"length": intKernel(func(ra rowArgs, i int) (int64, bool) { return int64(len(ra.strs[0](i))), true }),
	"char_length": intKernel(func(ra rowArgs, i int) (int64, bool) {
		return int64(utf8.RuneCountInString(ra.strs[0](i))), true
	}),
	"substring": func(c *Call) (kernelFn, error) {
		three := len(c.Args) == 3
		return strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
			n := int64(1 << 62)
			if three {
				n = ra.ints[2][i]
			}
			return append(buf, substrChars(ra.strs[0](i), ra.ints[1][i], n)...), true
		})(c)
	},
	"left": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		s := ra.strs[0](i)
		return append(buf, s[:charPos(s, ra.ints[1][i])]...), true
	}),
	"right": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		s, k := ra.strs[0](i), ra.ints[1][i]
		if k <= 0 {
			return buf, true
		}
		cnt := int64(utf8.RuneCountInString(s))
		if k >= cnt {
			return append(buf, s...), true
		}
		return append(buf, s[charPos(s, cnt-k):]...), true
	}),
	"trim": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return append(buf, strings.Trim(ra.strs[0](i), " ")...), true
	}),
	"ltrim": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return append(buf, strings.TrimLeft(ra.strs[0](i), " ")...), true
	}),
	"rtrim": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return append(buf, strings.TrimRight(ra.strs[0](i), " ")...), true
	}),
	"trim_chars": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return append(buf, trimMode(ra.strs[0](i), ra.strs[1](i), strings.ToUpper(ra.strs[2](i)))...), true
	}),
	"replace": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		s, from := ra.strs[0](i), ra.strs[1](i)
		if from == "" {
			return append(buf, s...), true
		}
		return append(buf, strings.ReplaceAll(s, from, ra.strs[2](i))...), true
	}),
	"lpad": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		if ra.ints[1][i] > maxRepeat {
			return buf, false
		}
		return padTo(buf, ra.strs[0](i), ra.ints[1][i], ra.strs[2](i), true)
	}),
	"rpad": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		if ra.ints[1][i] > maxRepeat {
			return buf, false
		}
		return padTo(buf, ra.strs[0](i), ra.ints[1][i], ra.strs[2](i), false)
	}),
	"repeat": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		s, k := ra.strs[0](i), ra.ints[1][i]
		if k <= 0 {
			return buf, true
		}
		if k*int64(len(s)) > maxRepeat {
			return buf, false
		}
		return append(buf, bytes.Repeat([]byte(s), int(k))...), true
	}),
	"reverse": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return reverseString(buf, ra.strs[0](i)), true
	}),
	"space": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		k := ra.ints[0][i]
		if k > maxRepeat {
			return buf, false
		}
		for ; k > 0; k-- {
			buf = append(buf, ' ')
		}
		return buf, true
	}),
	"locate": func(c *Call) (kernelFn, error) {
		three := len(c.Args) == 3
		return intKernel(func(ra rowArgs, i int) (int64, bool) {
			pos := int64(1)
			if three {
				pos = ra.ints[2][i]
			}
			return locate(ra.strs[0](i), ra.strs[1](i), pos), true
		})(c)
	},
	"instr": intKernel(func(ra rowArgs, i int) (int64, bool) {
		return locate(ra.strs[1](i), ra.strs[0](i), 1), true
	}),
	"strcmp": intKernel(func(ra rowArgs, i int) (int64, bool) {
		return int64(strings.Compare(ra.strs[0](i), ra.strs[1](i))), true
	}),
	"substring_index": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return append(buf, substringIndex(ra.strs[0](i), ra.strs[1](i), ra.ints[2][i])...), true
	}),
	"find_in_set": intKernel(func(ra rowArgs, i int) (int64, bool) {
		return findInSet(ra.strs[0](i), ra.strs[1](i)), true
	}),
	"ascii": intKernel(func(ra rowArgs, i int) (int64, bool) {
		s := ra.strs[0](i)
		if s == "" {
			return 0, true
		}
		return int64(s[0]), true
	}),
}

// checkArgTypes verifies that call arguments have the types Resolve gave.
func checkArgTypes(c *Call) error {
	sig, err := Resolve(c.Name, exprTypes(c.Args))
	if err != nil {
		return err
	}
	for i, a := range c.Args {
		at := a.DataType()
		if at.ID() == arrow.NULL || arrow.TypeEqual(at, sig.Args[i]) || (isStr(at) && isStr(sig.Args[i])) {
			continue
		}
		return qerr.New(qerr.Internal, "%s: argument %d is %s, want %s", c.Name, i+1, at, sig.Args[i])
	}
	return nil
}

func exprTypes(es []Expr) []arrow.DataType {
	out := make([]arrow.DataType, len(es))
	for i, e := range es {
		out[i] = e.DataType()
	}
	return out
}
