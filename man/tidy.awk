# Tidy scdoc's roff output so that `mandoc -T lint` has nothing to say.
# The rendered text stays the same:
# - drop the paragraph macros mandoc calls empty (before .SH, .SS or
#   another .P) or redundant (right after .TH, .SH or .SS), and move the
#   one before .RE after it, where it still separates the entries;
# - give .TH an upper case title, as man(7) style wants;
# - break text lines longer than 80 bytes at a space (in fill mode a line
#   break is a space), never inside "\ " and never so that the next line
#   would start with a control character.
function wrap(line,    i, c, n) {
	while (length(line) > 80) {
		n = 0
		for (i = 81; i > 1; i--) {
			if (substr(line, i, 1) != " " || substr(line, i - 1, 1) == "\\")
				continue
			c = substr(line, i + 1, 1)
			if (c != "" && c != " " && c != "." && c != "'") {
				n = i
				break
			}
		}
		if (n == 0)
			break
		print substr(line, 1, n - 1)
		line = substr(line, n + 1)
	}
	print line
}

{
	if ($0 == ".P" || $0 == ".PP") {
		if (!after_heading)
			pending = 1
		next
	}
	if ($0 ~ /^\.RE([ \t]|$)/) {
		print
		after_heading = 0
		next
	}
	if (pending && $0 !~ /^\.(SH|SS)([ \t]|$)/)
		print ".P"
	pending = 0
	after_heading = ($0 ~ /^\.(TH|SH|SS)([ \t]|$)/)
	if ($0 ~ /^\.nf([ \t]|$)/)
		nofill = 1
	else if ($0 ~ /^\.fi([ \t]|$)/)
		nofill = 0
	if ($0 ~ /^\.TH "[^"]*"/) {
		title = $0
		sub(/^\.TH "/, "", title)
		sub(/".*/, "", title)
		$0 = ".TH \"" toupper(title) substr($0, length(title) + 6)
		print
	} else if (nofill || $0 ~ /^[.']/)
		print
	else
		wrap($0)
}
