package expr

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash/crc32"
	"math"
	"math/bits"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// Miscellaneous string and number functions: HEX/UNHEX, CONV/BIN/OCT,
// FIELD/ELT/INTERVAL, INSERT, FORMAT, hashes, CHAR/ORD, QUOTE, SOUNDEX,
// RAND and UUID.

// Volatile reports whether the function gives a new value on every call
// (RAND, UUID): such calls are never constant-folded.
func Volatile(name string) bool {
	switch canonical(name) {
	case "rand", "uuid":
		return true
	}
	return false
}

// resolveHex types HEX/BIN/OCT: numbers are read as integers (a string
// argument of HEX is hex-encoded byte by byte, one of BIN/OCT is a number).
func resolveHex(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := in[0]
	switch {
	case t.ID() == arrow.UINT64:
	case name == "hex" && (isStr(t) || isTemporal(t) || isNull(t)):
		t = tString
		if in[0].ID() == arrow.BINARY {
			t = tBinary
		}
	default:
		t = tInt
	}
	return Signature{Args: []arrow.DataType{t}, Return: tString}, nil
}

func bindRadix(base int) binder {
	return func(c *Call) (kernelFn, error) {
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			switch a := args[0].(type) {
			case *array.Int64:
				v := a.Int64Values()
				return mapString(ec, args, func(buf []byte, i int) ([]byte, bool) { return appendRadix(buf, uint64(v[i]), base), true }), nil
			case *array.Uint64:
				v := a.Uint64Values()
				return mapString(ec, args, func(buf []byte, i int) ([]byte, bool) { return appendRadix(buf, v[i], base), true }), nil
			case *array.Null:
				return allNull(ec.mem, tString, ec.n), nil
			}
			s := stringValues(args[0])
			return mapString(ec, args, func(buf []byte, i int) ([]byte, bool) {
				st := len(buf)
				buf = hex.AppendEncode(buf, []byte(s(i)))
				upper(buf[st:])
				return buf, true
			}), nil
		}, nil
	}
}

// appendRadix writes u in base (2..36) with upper-case digits.
func appendRadix(buf []byte, u uint64, base int) []byte {
	st := len(buf)
	buf = strconv.AppendUint(buf, u, base)
	upper(buf[st:])
	return buf
}

func upper(b []byte) {
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
}

// unhex decodes pairs of hex digits (an odd length gets a leading 0); any
// other character gives NULL.
func unhex(buf []byte, s string) ([]byte, bool) {
	if len(s)%2 == 1 {
		s = "0" + s
	}
	out, err := hex.AppendDecode(buf, []byte(s))
	return out, err == nil
}

// conv is MySQL CONV(s, from, to): s read in base |from| (signed when from
// is negative) as a 64-bit integer, written in base |to| (signed when to is
// negative). Out-of-range bases and an empty s give NULL.
func conv(buf []byte, s string, from, to int64) ([]byte, bool) {
	fb, tb := abs64(from), abs64(to)
	if fb < 2 || fb > 36 || tb < 2 || tb > 36 || s == "" {
		return buf, false
	}
	s = trimSpaces(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	var u uint64
	over := false
	for i := 0; i < len(s); i++ {
		d := digitValue(s[i])
		if d >= fb {
			break
		}
		hi, lo := bits.Mul64(u, uint64(fb))
		sum, carry := bits.Add64(lo, uint64(d), 0)
		over = over || hi != 0 || carry != 0
		u = sum
	}
	if from < 0 {
		switch {
		case !neg && (over || u > math.MaxInt64):
			u = math.MaxInt64
		case neg && (over || u > 1<<63):
			u = 1 << 63
		}
	} else if over {
		u = math.MaxUint64
	}
	if neg {
		u = -u
	}
	if to < 0 && int64(u) < 0 {
		buf = append(buf, '-')
		u = -u
	}
	return appendRadix(buf, u, int(tb)), true
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func digitValue(c byte) int64 {
	switch {
	case c >= '0' && c <= '9':
		return int64(c - '0')
	case c >= 'a' && c <= 'z':
		return int64(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int64(c-'A') + 10
	}
	return 99
}

// resolveField types FIELD(x, a, b, ...): strings when all arguments are
// strings, else doubles (MySQL).
func resolveField(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := arrow.DataType(tString)
	for _, a := range in {
		if !isStr(a) && !isNull(a) {
			t = tFloat
		}
	}
	sig := Signature{Args: make([]arrow.DataType, len(in)), Return: tInt}
	for i := range in {
		sig.Args[i] = t
	}
	return sig, nil
}

// bindField: the 1-based index of the first argument equal to x, 0 when
// none is (or x is NULL); never NULL.
func bindField(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		ra := argsOf(args)
		isStrs := ra.strs[0] != nil
		return mapInt(ec, nil, func(i int) (int64, bool) {
			if args[0].IsNull(i) {
				return 0, true
			}
			for k := 1; k < len(args); k++ {
				if args[k].IsNull(i) {
					continue
				}
				if (isStrs && ra.strs[0](i) == ra.strs[k](i)) || (!isStrs && ra.flts[0][i] == ra.flts[k][i]) {
					return int64(k), true
				}
			}
			return 0, true
		}), nil
	}, nil
}

// bindElt: ELT(n, a, b, ...) is the n-th string, NULL when out of range.
func bindElt(c *Call) (kernelFn, error) {
	if err := checkArgTypes(c); err != nil {
		return nil, err
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		ra := argsOf(args)
		return mapString(ec, args[:1], func(buf []byte, i int) ([]byte, bool) {
			k := ra.ints[0][i]
			if k < 1 || k >= int64(len(args)) || args[k].IsNull(i) {
				return buf, false
			}
			return append(buf, ra.strs[k](i)...), true
		}), nil
	}, nil
}

// resolveInterval types INTERVAL(n, n1, n2, ...): integers when all are
// integers, else doubles.
func resolveInterval(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := arrow.DataType(tInt)
	for _, a := range in {
		if a.ID() != arrow.INT64 && !isNull(a) {
			t = tFloat
		}
	}
	sig := Signature{Args: make([]arrow.DataType, len(in)), Return: tInt}
	for i := range in {
		sig.Args[i] = t
	}
	return sig, nil
}

// bindInterval: the number of leading arguments n1, n2, ... that are <= n
// (MySQL scans until the first greater one; a NULL bound counts as 0); -1
// when n is NULL.
func bindInterval(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		ra := argsOf(args)
		ints := ra.ints[0] != nil
		val := func(k, i int) float64 {
			if args[k].IsNull(i) {
				return 0
			}
			if ints {
				return float64(ra.ints[k][i])
			}
			return ra.flts[k][i]
		}
		return mapInt(ec, nil, func(i int) (int64, bool) {
			if args[0].IsNull(i) {
				return -1, true
			}
			for k := 1; k < len(args); k++ {
				if ints && !args[k].IsNull(i) {
					if ra.ints[k][i] > ra.ints[0][i] {
						return int64(k - 1), true
					}
					continue
				}
				if val(k, i) > val(0, i) {
					return int64(k - 1), true
				}
			}
			return int64(len(args) - 1), true
		}), nil
	}, nil
}

// insertStr is MySQL INSERT(s, pos, n, new): n characters from pos replaced
// by new; s itself when pos is outside 1..length (MySQL does not append).
func insertStr(buf []byte, s string, pos, n int64, repl string) []byte {
	cnt := int64(utf8.RuneCountInString(s))
	if pos < 1 || pos > cnt {
		return append(buf, s...)
	}
	if n < 0 || n > cnt-pos+1 {
		n = cnt - pos + 1
	}
	st := charPos(s, pos-1)
	end := st + charPos(s[st:], n)
	buf = append(buf, s[:st]...)
	buf = append(buf, repl...)
	return append(buf, s[end:]...)
}

// resolveFormat types FORMAT(x, d[, locale]): decimals and integers stay
// exact, everything else is a double.
func resolveFormat(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := numericize(fillNulls(in[:1], tInt)[0])
	if isStr(in[0]) {
		t = tFloat
	}
	sig := Signature{Args: []arrow.DataType{t, tInt}, Return: tString}
	if len(in) == 3 {
		sig.Args = append(sig.Args, tString)
	}
	return sig, nil
}

// maxFormatDigits is the most decimals FORMAT writes (MySQL).
const maxFormatDigits = 30

// formatLocales are the FORMAT locales whose separators differ from en_US's
// (MySQL's locale table; names are case-insensitive): thousands separator
// ("" = none) and decimal point. Unknown locales format as en_US (MySQL).
var formatLocales = map[string][2]string{
	"de_de": {".", ","}, "de_ch": {"'", "."}, "de_at": {"", ","}, "fr_fr": {"", ","}, "fr_ch": {"", ","},
	"es_es": {".", ","}, "it_it": {"", ","}, "it_ch": {"'", ","}, "pt_br": {"", ","}, "pt_pt": {"", ","},
	"ru_ru": {" ", ","}, "nl_nl": {"", ","}, "sv_se": {" ", ","}, "pl_pl": {"", ","}, "da_dk": {".", ","},
	"nb_no": {".", ","}, "fi_fi": {" ", ","}, "cs_cz": {" ", ","}, "tr_tr": {".", ","},
}

// bindFormat: FORMAT(x, d[, locale]) rounds x to d decimals and groups the
// integer digits by thousands ("1,234,567.89"; "1.234.567,89" in de_DE).
func bindFormat(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		ds := args[1].(*array.Int64).Int64Values()
		var num []byte
		var digits func(i int, d int) []byte
		switch a := args[0].(type) {
		case *array.Int64:
			digits = func(i, _ int) []byte { return strconv.AppendInt(num[:0], a.Value(i), 10) }
		case *array.Uint64:
			digits = func(i, _ int) []byte { return strconv.AppendUint(num[:0], a.Value(i), 10) }
		case *array.Decimal128:
			s := a.DataType().(*arrow.Decimal128Type).Scale
			digits = func(i, _ int) []byte { return appendDecimal(num[:0], a.Value(i), s) }
		case *array.Float64:
			// Doubles round like ROUND does (half to even on the binary value).
			digits = func(i, d int) []byte {
				return strconv.AppendFloat(num[:0], roundFloat(a.Value(i), int64(d), false), 'f', d, 64)
			}
		default:
			return allNull(ec.mem, tString, ec.n), nil
		}
		var locale func(int) string
		if len(args) == 3 {
			locale = argsOf(args).strs[2]
		}
		return mapString(ec, args[:2], func(buf []byte, i int) ([]byte, bool) {
			d := int(max(0, min(ds[i], maxFormatDigits)))
			num = digits(i, d)
			seps := [2]string{",", "."}
			if locale != nil && !args[2].IsNull(i) {
				if s, ok := formatLocales[strings.ToLower(locale(i))]; ok {
					seps = s
				}
			}
			return groupThousands(buf, roundDigits(num, d), d, seps[0], seps[1]), true
		}), nil
	}, nil
}

// roundDigits rounds a plain decimal number string to d decimals, half away
// from zero, padding with zeros.
func roundDigits(num []byte, d int) []byte {
	dot := indexByte(string(num), '.')
	if dot < 0 {
		dot = len(num)
		if d > 0 {
			num = append(num, '.')
		}
	}
	frac := len(num) - dot - 1
	if frac < 0 {
		frac = 0
	}
	if frac <= d {
		for ; frac < d; frac++ {
			num = append(num, '0')
		}
		return num
	}
	up := num[dot+1+d] >= '5'
	num = num[:dot+1+d]
	if d == 0 {
		num = num[:dot]
	}
	if !up {
		return num
	}
	for k := len(num) - 1; k >= 0; k-- {
		switch c := num[k]; {
		case c == '.':
			continue
		case c == '9':
			num[k] = '0'
			continue
		case c >= '0' && c < '9':
			num[k]++
			return num
		}
		// Reached the sign: insert a leading 1 after it.
		return append(num[:k+1], append([]byte{'1'}, num[k+1:]...)...)
	}
	return append([]byte{'1'}, num...)
}

// groupThousands appends num (sign, digits, optional fraction) with commas
// between groups of three integer digits.
func groupThousands(buf, num []byte, d int, sep, point string) []byte {
	if len(num) > 0 && num[0] == '-' {
		if allZero(num[1:]) {
			num = num[1:] // -0.00 prints as 0.00
		} else {
			buf, num = append(buf, '-'), num[1:]
		}
	}
	intLen := len(num)
	if d > 0 {
		intLen = len(num) - d - 1
	}
	for k := 0; k < intLen; k++ {
		if k > 0 && (intLen-k)%3 == 0 {
			buf = append(buf, sep...)
		}
		buf = append(buf, num[k])
	}
	if intLen < len(num) {
		buf = append(buf, point...)
		intLen++ // past the '.'
	}
	return append(buf, num[intLen:]...)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != '0' && c != '.' {
			return false
		}
	}
	return true
}

// sha2 is MySQL SHA2(s, bits): hex digest, NULL for an unknown length.
func sha2(buf []byte, s string, bits int64) ([]byte, bool) {
	switch bits {
	case 0, 256:
		h := sha256.Sum256([]byte(s))
		return hex.AppendEncode(buf, h[:]), true
	case 224:
		h := sha256.Sum224([]byte(s))
		return hex.AppendEncode(buf, h[:]), true
	case 384:
		h := sha512.Sum384([]byte(s))
		return hex.AppendEncode(buf, h[:]), true
	case 512:
		h := sha512.Sum512([]byte(s))
		return hex.AppendEncode(buf, h[:]), true
	}
	return buf, false
}

// bindChar: CHAR(n, ...) is the bytes of each integer (as 32 bits, most
// significant first, leading zero bytes dropped); NULL arguments are
// skipped.
func bindChar(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		ra := argsOf(args)
		s := mapString(ec, nil, func(buf []byte, i int) ([]byte, bool) {
			for k := range args {
				if args[k].IsNull(i) {
					continue
				}
				v := uint32(ra.ints[k][i])
				started := false
				for sh := 24; sh >= 0; sh -= 8 {
					b := byte(v >> sh)
					if b != 0 || started || sh == 0 {
						buf, started = append(buf, b), true
					}
				}
			}
			return buf, true
		})
		defer s.Release()
		return reinterpretBytes(s.Data(), tBinary), nil
	}, nil
}

// ord is MySQL ORD(s): the leftmost character's bytes as a base-256 number.
func ord(s string) int64 {
	if s == "" {
		return 0
	}
	_, w := utf8.DecodeRuneInString(s)
	v := int64(0)
	for k := 0; k < w; k++ {
		v = v*256 + int64(s[k])
	}
	return v
}

// bindQuote: QUOTE(s) is s in single quotes with \, ', NUL and Ctrl-Z
// escaped; QUOTE(NULL) is the word NULL.
func bindQuote(c *Call) (kernelFn, error) {
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		sv := stringValues(args[0])
		return mapString(ec, nil, func(buf []byte, i int) ([]byte, bool) {
			if args[0].IsNull(i) {
				return append(buf, "NULL"...), true
			}
			s := sv(i)
			buf = append(buf, '\'')
			for k := 0; k < len(s); k++ {
				switch s[k] {
				case '\\', '\'':
					buf = append(buf, '\\', s[k])
				case 0:
					buf = append(buf, '\\', '0')
				case 26:
					buf = append(buf, '\\', 'Z')
				default:
					buf = append(buf, s[k])
				}
			}
			return append(buf, '\''), true
		}), nil
	}, nil
}

// soundexCodes maps A..Z to their Soundex digit ('0' = not coded).
const soundexCodes = "01230120022455012623010202"

// soundex is MySQL SOUNDEX(s): the first letter, then the codes of the
// following letters without vowels and repeats, padded to four characters
// (longer results are kept, as in MySQL). Non-ASCII characters are skipped.
func soundex(buf []byte, s string) []byte {
	st := len(buf)
	var last byte
	for k := 0; k < len(s); k++ {
		c := s[k]
		if c >= utf8.RuneSelf {
			// A letter outside A-Z counts as a vowel, but can be the first
			// letter (MySQL: SOUNDEX('é') is 'é000').
			r, n := utf8.DecodeRuneInString(s[k:])
			if unicode.IsLetter(r) && len(buf) == st {
				buf, last = append(buf, s[k:k+n]...), '0'
			}
			k += n - 1
			continue
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c < 'A' || c > 'Z' {
			continue
		}
		code := soundexCodes[c-'A']
		if len(buf) == st {
			buf, last = append(buf, c), code
			continue
		}
		if code != '0' && code != last {
			buf, last = append(buf, code), code
		}
	}
	if len(buf) == st {
		return buf
	}
	for utf8.RuneCount(buf[st:]) < 4 {
		buf = append(buf, '0')
	}
	return buf
}

// mysqlRand is MySQL's RAND(seed) generator (my_rnd), so that seeded
// sequences match MySQL's.
type mysqlRand struct {
	mu     sync.Mutex
	s1, s2 uint64
}

const randMax = 0x3FFFFFFF

func newMysqlRand(seed int64) *mysqlRand {
	t := uint64(uint32(seed))
	return &mysqlRand{s1: uint64(uint32(t*0x10001+55555555)) % randMax, s2: uint64(uint32(t*0x10000001)) % randMax}
}

func (r *mysqlRand) next() float64 {
	r.s1 = (r.s1*3 + r.s2) % randMax
	r.s2 = (r.s1 + r.s2 + 33) % randMax
	return float64(r.s1) / randMax
}

// bindRand: RAND() draws from Go's generator; RAND(constant) runs one
// seeded sequence over the rows of the call; RAND(column) reseeds per row
// (MySQL).
func bindRand(c *Call) (kernelFn, error) {
	var seeded *mysqlRand
	if len(c.Args) == 1 {
		if l, ok := c.Args[0].(*Literal); ok {
			seed, _ := constInt(l.Value)
			seeded = newMysqlRand(seed)
			c.consume(0)
		}
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		dbuf, out := newValues[float64](ec.mem, ec.n)
		switch {
		case len(args) == 0:
			for i := range out {
				out[i] = mrand.Float64()
			}
		case seeded != nil:
			seeded.mu.Lock()
			for i := range out {
				out[i] = seeded.next()
			}
			seeded.mu.Unlock()
		default:
			ra := argsOf(args)
			for i := range out {
				seed := int64(0) // RAND(NULL) is RAND(0)
				if !args[0].IsNull(i) && ra.ints[0] != nil {
					seed = ra.ints[0][i]
				}
				out[i] = newMysqlRand(seed).next()
			}
		}
		return makeArray(tFloat, ec.n, nil, dbuf), nil
	}, nil
}

// uuidNode is this process's random UUID node id (multicast bit set, as
// RFC 4122 asks when no MAC address is used).
var uuidNode = sync.OnceValue(func() [6]byte {
	var n [6]byte
	_, _ = rand.Read(n[:])
	n[0] |= 1
	return n
})

var uuidState struct {
	mu   sync.Mutex
	last uint64
	seq  uint16
}

// newUUID returns a version 1 (time-based) UUID, as MySQL's UUID().
func newUUID(buf []byte) []byte {
	const gregorianOffset = 0x01B21DD213814000 // 100 ns ticks from 1582-10-15 to 1970
	uuidState.mu.Lock()
	t := uint64(time.Now().UnixNano()/100) + gregorianOffset
	if t <= uuidState.last {
		t = uuidState.last + 1 // strictly increasing within the process
	}
	if uuidState.last == 0 {
		uuidState.seq = uint16(mrand.Uint32())
	}
	uuidState.last = t
	seq := uuidState.seq&0x3FFF | 0x8000
	uuidState.mu.Unlock()
	var u [16]byte
	u[0], u[1], u[2], u[3] = byte(t>>24), byte(t>>16), byte(t>>8), byte(t)
	u[4], u[5] = byte(t>>40), byte(t>>32)
	u[6], u[7] = byte(t>>56)&0x0F|0x10, byte(t>>48)
	u[8], u[9] = byte(seq>>8), byte(seq)
	node := uuidNode()
	copy(u[10:], node[:])
	for k, part := range [][2]int{{0, 4}, {4, 6}, {6, 8}, {8, 10}, {10, 16}} {
		if k > 0 {
			buf = append(buf, '-')
		}
		buf = hex.AppendEncode(buf, u[part[0]:part[1]])
	}
	return buf
}

var miscKernels = map[string]binder{
	"hex": bindRadix(16), "bin": bindRadix(2), "oct": bindRadix(8),
	"unhex": func(c *Call) (kernelFn, error) {
		k, err := strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) { return unhex(buf, ra.strs[0](i)) })(c)
		return binaryResult(k), err
	},
	"conv": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return conv(buf, ra.strs[0](i), ra.ints[1][i], ra.ints[2][i])
	}),
	"field": bindField, "elt": bindElt, "interval": bindInterval,
	"insert": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return insertStr(buf, ra.strs[0](i), ra.ints[1][i], ra.ints[2][i], ra.strs[3](i)), true
	}),
	"format": bindFormat,
	"md5": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		h := md5.Sum([]byte(ra.strs[0](i)))
		return hex.AppendEncode(buf, h[:]), true
	}),
	"sha1": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		h := sha1.Sum([]byte(ra.strs[0](i)))
		return hex.AppendEncode(buf, h[:]), true
	}),
	"sha2": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) { return sha2(buf, ra.strs[0](i), ra.ints[1][i]) }),
	"crc32": intKernel(func(ra rowArgs, i int) (int64, bool) {
		return int64(crc32.ChecksumIEEE([]byte(ra.strs[0](i)))), true
	}),
	"char":  bindChar,
	"ord":   intKernel(func(ra rowArgs, i int) (int64, bool) { return ord(ra.strs[0](i)), true }),
	"quote": bindQuote,
	"soundex": strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
		return soundex(buf, ra.strs[0](i)), true
	}),
	"cast_binary": func(c *Call) (kernelFn, error) {
		k, err := strKernel(func(ra rowArgs, buf []byte, i int) ([]byte, bool) {
			s, n := ra.strs[0](i), int(min(max(ra.ints[1][i], 0), maxRepeat))
			buf = append(buf, s[:min(len(s), n)]...)
			for k := len(s); k < n; k++ {
				buf = append(buf, 0)
			}
			return buf, true
		})(c)
		return binaryResult(k), err
	},
	"rand": bindRand,
	"uuid": func(c *Call) (kernelFn, error) {
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			return mapString(ec, nil, func(buf []byte, _ int) ([]byte, bool) { return newUUID(buf), true }), nil
		}, nil
	},
}

// binaryResult turns a kernel's string result into VARBINARY.
func binaryResult(k kernelFn) kernelFn {
	if k == nil {
		return nil
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		s, err := k(ec, args)
		if err != nil {
			return nil, err
		}
		defer s.Release()
		return reinterpretBytes(s.Data(), tBinary), nil
	}
}
