package expr

import (
	"strconv"
)

// Civil-calendar arithmetic on days since 1970-01-01 (proleptic Gregorian,
// H. Hinnant's algorithms): no time.Time per row.

const (
	usPerSec = int64(1_000_000)
	usPerDay = 86400 * usPerSec
)

func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// floorDiv divides rounding toward negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// splitTS splits a µs timestamp into days and µs within the day.
func splitTS(ts int64) (days, us int64) {
	days = floorDiv(ts, usPerDay)
	return days, ts - days*usPerDay
}

// weekdayOf is 0 = Monday .. 6 = Sunday (1970-01-01 was a Thursday).
func weekdayOf(days int64) int64 {
	w := (days + 3) % 7
	if w < 0 {
		w += 7
	}
	return w
}

func appendPad(b []byte, v int64, width int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendDate writes YYYY-MM-DD.
func appendDate(b []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, m, 2)
	b = append(b, '-')
	return appendPad(b, d, 2)
}

// appendClock writes HH:MM:SS[.ffffff] for µs within a day (or a TIME value,
// which may be negative or exceed 24 hours).
func appendClock(b []byte, us int64) []byte {
	if us < 0 {
		b = append(b, '-')
		us = -us
	}
	secs := us / usPerSec
	frac := us % usPerSec
	b = appendPad(b, secs/3600, 2)
	b = append(b, ':')
	b = appendPad(b, secs/60%60, 2)
	b = append(b, ':')
	b = appendPad(b, secs%60, 2)
	if frac != 0 {
		b = append(b, '.')
		b = appendPad(b, frac, 6)
	}
	return b
}

// appendTS writes YYYY-MM-DD HH:MM:SS[.ffffff].
func appendTS(b []byte, ts int64) []byte {
	days, us := splitTS(ts)
	b = appendDate(b, days)
	b = append(b, ' ')
	return appendClock(b, us)
}

// dateParts are the fields of a parsed date/time string.
type dateParts struct {
	y, mo, d, h, mi, s, us int64
	hasTime                bool
}

// parseDateTimeStr reads MySQL date/datetime strings: 'YYYY-MM-DD',
// 'YY-MM-DD', any punctuation as delimiter, 'YYYYMMDD[hhmmss]', with an
// optional ' ' or 'T' then 'HH:MM[:SS[.ffffff]]'. Invalid → ok=false.
func parseDateTimeStr(s string) (p dateParts, ok bool) {
	s = trimSpaces(s)
	if s == "" {
		return p, false
	}
	if allDigits(s) {
		return parseDigitsDateTime(s)
	}
	var f [7]int64
	var fl [7]int
	i, k := 0, 0
	for k < 7 && i < len(s) {
		st := i
		for i < len(s) && isDigit(s[i]) {
			f[k] = f[k]*10 + int64(s[i]-'0')
			i++
			if i-st > 9 && k != 6 {
				return p, false
			}
		}
		if i == st {
			return p, false
		}
		fl[k] = i - st
		k++
		if i >= len(s) {
			break
		}
		c := s[i]
		switch {
		case k == 3 && (c == ' ' || c == 'T'):
			i++
			for i < len(s) && s[i] == ' ' {
				i++
			}
		case k == 6 && c == '.':
			i++
		case k == 6:
			return p, false
		case isPunct(c):
			i++
		default:
			return p, false
		}
	}
	if i < len(s) || k < 3 {
		return p, false
	}
	p.y, p.mo, p.d = f[0], f[1], f[2]
	if fl[0] <= 2 {
		p.y = twoDigitYear(p.y)
	}
	if k > 3 {
		if k < 5 {
			return p, false
		}
		p.hasTime = true
		p.h, p.mi, p.s = f[3], f[4], f[5]
		if k == 7 {
			p.us = fracToMicros(f[6], fl[6])
		}
	}
	return p, p.valid()
}

func (p dateParts) valid() bool {
	if p.mo < 1 || p.mo > 12 || p.d < 1 || p.y > 9999 || p.y < 0 {
		return false
	}
	if p.d > daysInMonth(p.y, p.mo) {
		return false
	}
	return p.h < 24 && p.mi < 60 && p.s < 60
}

func (p dateParts) days() int64 { return daysFromCivil(p.y, p.mo, p.d) }
func (p dateParts) ts() int64 {
	return p.days()*usPerDay + ((p.h*60+p.mi)*60+p.s)*usPerSec + p.us
}

// parseDigitsDateTime reads YYMMDD, YYYYMMDD, YYMMDDhhmmss, YYYYMMDDhhmmss.
func parseDigitsDateTime(s string) (p dateParts, ok bool) {
	num := func(a, b int) int64 {
		v := int64(0)
		for _, c := range s[a:b] {
			v = v*10 + int64(c-'0')
		}
		return v
	}
	switch len(s) {
	case 6, 12:
		p.y, p.mo, p.d = twoDigitYear(num(0, 2)), num(2, 4), num(4, 6)
		if len(s) == 12 {
			p.h, p.mi, p.s, p.hasTime = num(6, 8), num(8, 10), num(10, 12), true
		}
	case 8, 14:
		p.y, p.mo, p.d = num(0, 4), num(4, 6), num(6, 8)
		if len(s) == 14 {
			p.h, p.mi, p.s, p.hasTime = num(8, 10), num(10, 12), num(12, 14), true
		}
	default:
		return p, false
	}
	return p, p.valid()
}

// dateFromNumber reads a number as MySQL does in date context: YYYYMMDD or
// YYYYMMDDhhmmss (also with two-digit years).
func dateFromNumber(v int64) (dateParts, bool) {
	if v <= 0 {
		return dateParts{}, false
	}
	s := strconv.FormatInt(v, 10)
	switch len(s) {
	case 5, 7, 11, 13:
		s = "0" + s
	}
	return parseDigitsDateTime(s)
}

// parseTimeStr reads MySQL TIME strings: '[-][D ]HH:MM[:SS[.ffffff]]',
// 'HHMMSS', 'MMSS', 'SS'. Returns µs.
func parseTimeStr(s string) (int64, bool) {
	s = trimSpaces(s)
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if s == "" {
		return 0, false
	}
	if p, ok := parseDateTimeStr(s); ok && p.hasTime {
		us := ((p.h*60+p.mi)*60+p.s)*usPerSec + p.us
		return signed(us, neg), true
	}
	var h, m, sec, us int64
	frac := ""
	if dot := indexByte(s, '.'); dot >= 0 {
		s, frac = s[:dot], s[dot+1:]
		if frac == "" || !allDigits(frac) {
			return 0, false
		}
		if len(frac) > 6 {
			frac = frac[:6]
		}
		v, _ := strconv.ParseInt(frac, 10, 64)
		us = fracToMicros(v, len(frac))
	}
	days := int64(0)
	if sp := indexByte(s, ' '); sp >= 0 {
		d, err := strconv.ParseInt(s[:sp], 10, 64)
		if err != nil {
			return 0, false
		}
		days, s = d, trimSpaces(s[sp+1:])
	}
	if indexByte(s, ':') >= 0 {
		parts := splitColon(s)
		if len(parts) < 2 || len(parts) > 3 {
			return 0, false
		}
		vals := [3]int64{}
		for i, x := range parts {
			if x == "" || !allDigits(x) {
				return 0, false
			}
			vals[i], _ = strconv.ParseInt(x, 10, 64)
		}
		h, m, sec = vals[0], vals[1], vals[2]
	} else {
		if !allDigits(s) || len(s) > 7 {
			return 0, false
		}
		v, _ := strconv.ParseInt(s, 10, 64)
		h, m, sec = v/10000, v/100%100, v%100
	}
	h += days * 24
	if m > 59 || sec > 59 || h > 838 {
		return 0, false
	}
	return signed(((h*60+m)*60+sec)*usPerSec+us, neg), true
}

// timeFromNumber reads hhmmss.
func timeFromNumber(v int64) (int64, bool) {
	if v >= 10000000000 {
		// MySQL reads a number this large as a DATETIME (YYYYMMDDhhmmss)
		// and keeps its time: CAST(20240105101112 AS TIME) is 10:11:12.
		p, ok := dateFromNumber(v)
		return (p.h*3600+p.mi*60+p.s)*usPerSec + p.us, ok
	}
	neg := v < 0
	if neg {
		v = -v
	}
	h, m, s := v/10000, v/100%100, v%100
	if m > 59 || s > 59 || h > 838 {
		return 0, false
	}
	return signed(((h*60+m)*60+s)*usPerSec, neg), true
}

func signed(v int64, neg bool) int64 {
	if neg {
		return -v
	}
	return v
}

func twoDigitYear(y int64) int64 {
	if y < 70 {
		return 2000 + y
	}
	if y < 100 {
		return 1900 + y
	}
	return y
}

func fracToMicros(v int64, digits int) int64 {
	for ; digits < 6; digits++ {
		v *= 10
	}
	for ; digits > 6; digits-- {
		v /= 10
	}
	return v
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isPunct(c byte) bool {
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~')
}
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
func trimSpaces(s string) string {
	i, j := 0, len(s)
	for i < j && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t' || s[j-1] == '\n' || s[j-1] == '\r') {
		j--
	}
	return s[i:j]
}
func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
func splitColon(s string) []string {
	var out []string
	st := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			out = append(out, s[st:i])
			st = i + 1
		}
	}
	return append(out, s[st:])
}
