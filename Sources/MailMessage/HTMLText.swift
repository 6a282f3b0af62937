/// A small, forgiving HTML-to-text converter for mail bodies (not a browser).
///
/// Paragraphs and headings become blank-line separated blocks, `<br>` a line break, list items "- " or "1. ",
/// links "text <url>", entities (named and numeric, HTML 5 §13.5) are decoded, and `<script>`, `<style>`,
/// `<head>` and comments are dropped. With `removeQuotes`, the reply-quote containers of the big clients are
/// dropped too: Gmail `gmail_quote`, Apple/Thunderbird `<blockquote type="cite">`, Yahoo `yahoo_quoted`, and
/// everything from Outlook's `divRplyFwdMsg` / `appendonsend` on.
enum HTMLText {
    private struct Tag {
        var name: String
        var isClosing: Bool
        var isSelfClosing: Bool
        var attributes: [String: String]
    }

    private static let blockTags: Set<String> = [
        "div", "table", "tr", "section", "article", "header", "footer", "nav", "aside", "form", "center", "address",
        "dl", "dt", "dd", "ul", "ol", "blockquote", "pre", "hr", "main", "figure", "figcaption", "tbody", "thead",
    ]
    private static let paragraphTags: Set<String> = ["p", "h1", "h2", "h3", "h4", "h5", "h6"]
    private static let droppedTags: Set<String> = [
        "script", "style", "head", "title", "template", "noscript", "xml", "svg", "object",
    ]

    /// Converts HTML to readable plain text with LF line ends.
    static func text(from html: String, removeQuotes: Bool = false) -> String {
        let scalars = Array(html.unicodeScalars)
        var output = TextBuilder()
        var index = 0
        var dropUntil: String?  // the closing tag that ends a dropped element
        var dropDepth = 0
        var quoteTag: String?
        var quoteDepth = 0
        var preDepth = 0
        var listStack: [(ordered: Bool, counter: Int)] = []
        var links: [(href: String, textStart: Int)] = []

        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "<" {
                // Comments and declarations.
                if matches(scalars, at: index, "<!--") {
                    index = find(scalars, "-->", from: index + 4).map { $0 + 3 } ?? scalars.count
                    continue
                }
                if index + 1 < scalars.count, scalars[index + 1] == "!" || scalars[index + 1] == "?" {
                    index = find(scalars, ">", from: index).map { $0 + 1 } ?? scalars.count
                    continue
                }
                guard let (tag, end) = parseTag(scalars, at: index) else {
                    if dropUntil == nil && quoteTag == nil { output.appendText("<", pre: preDepth > 0) }
                    index += 1
                    continue
                }
                index = end
                if let closing = dropUntil {
                    if tag.name == closing {
                        if tag.isClosing { dropDepth -= 1 } else if !tag.isSelfClosing { dropDepth += 1 }
                        if dropDepth == 0 { dropUntil = nil }
                    }
                    continue
                }
                if let quote = quoteTag {
                    if tag.name == quote {
                        if tag.isClosing { quoteDepth -= 1 } else if !tag.isSelfClosing { quoteDepth += 1 }
                        if quoteDepth == 0 { quoteTag = nil }
                    }
                    continue
                }
                if !tag.isClosing && droppedTags.contains(tag.name) && !tag.isSelfClosing {
                    dropUntil = tag.name
                    dropDepth = 1
                    continue
                }
                if removeQuotes && !tag.isClosing {
                    let classes = (tag.attributes["class"] ?? "").lowercased()
                    let id = (tag.attributes["id"] ?? "").lowercased()
                    if id == "divrplyfwdmsg" || id == "appendonsend" {
                        // Outlook: everything from here on is the quoted original.
                        return output.finish()
                    }
                    if classes.contains("gmail_quote") || classes.contains("yahoo_quoted")
                        || classes.contains("moz-cite-prefix")
                        || (tag.name == "blockquote" && (tag.attributes["type"] ?? "").lowercased() == "cite")
                    {
                        if !tag.isSelfClosing {
                            quoteTag = tag.name
                            quoteDepth = 1
                        }
                        // Leave a quote line in its place, so that the attribution above it is recognised as one
                        // and answers written between quotes stay separate.
                        output.blockBreak()
                        output.appendRaw(">")
                        output.blockBreak()
                        continue
                    }
                }
                switch tag.name {
                case "br":
                    output.lineBreak()
                case "p" where (tag.attributes["class"] ?? "").lowercased().hasPrefix("mso"):
                    // Outlook writes every line as <p class=MsoNormal> with no margin: a line, not a paragraph.
                    output.blockBreak()
                case "p", "h1", "h2", "h3", "h4", "h5", "h6":
                    output.paragraphBreak()
                case "li":
                    if !tag.isClosing {
                        output.blockBreak()
                        let depth = max(0, listStack.count - 1)
                        let indent = String(repeating: "  ", count: depth)
                        if var top = listStack.last, top.ordered {
                            top.counter += 1
                            listStack[listStack.count - 1] = top
                            output.appendRaw(indent + "\(top.counter). ")
                        } else {
                            output.appendRaw(indent + "- ")
                        }
                    } else {
                        output.blockBreak()
                    }
                case "ul", "ol":
                    if tag.isClosing {
                        if !listStack.isEmpty { listStack.removeLast() }
                        if listStack.isEmpty { output.paragraphBreak() } else { output.blockBreak() }
                    } else {
                        if listStack.isEmpty { output.paragraphBreak() } else { output.blockBreak() }
                        listStack.append((tag.name == "ol", 0))
                    }
                case "pre":
                    output.paragraphBreak()
                    preDepth += tag.isClosing ? -1 : 1
                    preDepth = max(0, preDepth)
                case "td", "th":
                    if !tag.isClosing { output.cellBreak() }
                case "a":
                    if tag.isClosing {
                        if let link = links.popLast() {
                            let linkText = output.text(from: link.textStart).trimmingASCIIWhitespace()
                            let href = link.href
                            let bare = href.hasPrefix("mailto:") ? String(href.dropFirst(7)) : href
                            if !bare.isEmpty, linkText != bare, linkText != href, !href.hasPrefix("#"),
                                !href.lowercased().hasPrefix("javascript:")
                            {
                                if linkText.isEmpty {
                                    output.appendText(bare, pre: true)
                                } else {
                                    output.appendRaw(" <\(bare)>")
                                }
                            }
                        }
                    } else if let href = tag.attributes["href"] {
                        links.append((decodeEntities(href).trimmingASCIIWhitespace(), output.count))
                    }
                case "img":
                    if let alt = tag.attributes["alt"], !alt.trimmingASCIIWhitespace().isEmpty {
                        output.appendText(decodeEntities(alt), pre: false)
                    }
                case "hr":
                    output.paragraphBreak()
                default:
                    if blockTags.contains(tag.name) { output.blockBreak() }
                }
                continue
            }
            var textEnd = index
            while textEnd < scalars.count, scalars[textEnd] != "<" { textEnd += 1 }
            if dropUntil == nil && quoteTag == nil {
                let chunk = String(String.UnicodeScalarView(scalars[index..<textEnd]))
                output.appendText(decodeEntities(chunk), pre: preDepth > 0)
            }
            index = textEnd
        }
        return output.finish()
    }

    private static func matches(_ scalars: [Unicode.Scalar], at index: Int, _ literal: String) -> Bool {
        let needle = Array(literal.unicodeScalars)
        guard index + needle.count <= scalars.count else { return false }
        for offset in 0..<needle.count where scalars[index + offset] != needle[offset] { return false }
        return true
    }

    private static func find(_ scalars: [Unicode.Scalar], _ literal: String, from start: Int) -> Int? {
        var index = start
        while index < scalars.count {
            if matches(scalars, at: index, literal) { return index }
            index += 1
        }
        return nil
    }

    /// Parses `<name attr="v" …>` at `start`; nil when this "<" does not start a tag.
    private static func parseTag(_ scalars: [Unicode.Scalar], at start: Int) -> (Tag, Int)? {
        var index = start + 1
        // A tag ends before the next "<" and within 8 KiB; otherwise this "<" is text. This keeps hostile input
        // ("<a href=\"" repeated with no ">") linear: each scalar is scanned from one "<" only.
        let hardLimit = min(scalars.count, start + 8192)
        var limit = start + 1
        while limit < hardLimit, scalars[limit] != "<" { limit += 1 }
        var closing = false
        if index < limit, scalars[index] == "/" {
            closing = true
            index += 1
        }
        var name = String.UnicodeScalarView()
        while index < limit,
            scalars[index].properties.isAlphabetic || ("0"..."9").contains(scalars[index]) || scalars[index] == ":"
                || scalars[index] == "-"
        {
            name.append(scalars[index])
            index += 1
        }
        if name.isEmpty { return nil }
        var attributes: [String: String] = [:]
        var selfClosing = false
        while index < limit, scalars[index] != ">" {
            let scalar = scalars[index]
            if scalar.isASCIIWhitespace {
                index += 1
                continue
            }
            if scalar == "/" {
                selfClosing = true
                index += 1
                continue
            }
            var attributeName = String.UnicodeScalarView()
            while index < limit, !scalars[index].isASCIIWhitespace, scalars[index] != "=", scalars[index] != ">" {
                attributeName.append(scalars[index])
                index += 1
            }
            while index < limit, scalars[index].isASCIIWhitespace { index += 1 }
            var attributeValue = String.UnicodeScalarView()
            if index < limit, scalars[index] == "=" {
                index += 1
                while index < limit, scalars[index].isASCIIWhitespace { index += 1 }
                if index < limit, scalars[index] == "\"" || scalars[index] == "'" {
                    let quote = scalars[index]
                    index += 1
                    while index < limit, scalars[index] != quote {
                        attributeValue.append(scalars[index])
                        index += 1
                    }
                    index += 1
                } else {
                    while index < limit, !scalars[index].isASCIIWhitespace, scalars[index] != ">" {
                        attributeValue.append(scalars[index])
                        index += 1
                    }
                }
            }
            if attributeName.isEmpty {
                index += 1
            } else {
                attributes[String(attributeName).lowercased()] = String(attributeValue)
            }
        }
        // No ">" before the end or the limit: this "<" was text.
        if index >= limit { return nil }
        let lowered = String(name).lowercased()
        return (
            Tag(
                name: lowered, isClosing: closing,
                isSelfClosing: selfClosing || lowered == "br" || lowered == "img" || lowered == "hr"
                    || lowered == "meta" || lowered == "link", attributes: attributes), min(index + 1, scalars.count)
        )
    }

    private static let namedEntities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{00A0}", "copy": "©", "reg": "®",
        "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“",
        "rdquo": "”", "sbquo": "‚", "bdquo": "„", "bull": "•", "middot": "·", "euro": "€", "pound": "£", "yen": "¥",
        "cent": "¢", "laquo": "«", "raquo": "»", "times": "×", "divide": "÷", "deg": "°", "plusmn": "±", "para": "¶",
        "sect": "§", "iexcl": "¡", "iquest": "¿", "shy": "\u{00AD}", "zwnj": "\u{200C}", "zwj": "\u{200D}",
        "ensp": "\u{2002}", "emsp": "\u{2003}", "thinsp": "\u{2009}", "auml": "ä", "ouml": "ö", "uuml": "ü",
        "Auml": "Ä", "Ouml": "Ö", "Uuml": "Ü", "szlig": "ß", "eacute": "é", "egrave": "è", "ecirc": "ê",
        "euml": "ë", "Eacute": "É", "Egrave": "È", "aacute": "á", "agrave": "à", "acirc": "â", "atilde": "ã",
        "aring": "å", "Aring": "Å", "aelig": "æ", "AElig": "Æ", "ccedil": "ç", "Ccedil": "Ç", "iacute": "í",
        "igrave": "ì", "icirc": "î", "iuml": "ï", "ntilde": "ñ", "Ntilde": "Ñ", "oacute": "ó", "ograve": "ò",
        "ocirc": "ô", "otilde": "õ", "oslash": "ø", "Oslash": "Ø", "uacute": "ú", "ugrave": "ù", "ucirc": "û",
        "yacute": "ý", "yuml": "ÿ", "larr": "←", "rarr": "→", "uarr": "↑", "darr": "↓", "hearts": "♥",
        "check": "✓", "minus": "−", "frac12": "½", "frac14": "¼", "frac34": "¾", "sup2": "²", "sup3": "³",
        "micro": "µ", "ordf": "ª", "ordm": "º", "not": "¬", "macr": "¯", "acute": "´", "cedil": "¸", "uml": "¨",
        "brvbar": "¦", "curren": "¤", "dagger": "†", "Dagger": "‡", "permil": "‰", "prime": "′", "infin": "∞",
    ]

    /// Decodes character references: `&name;`, `&#123;`, `&#x1F600;` (invalid code points become U+FFFD).
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let scalars = Array(text.unicodeScalars)
        var output = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            guard scalar == "&" else {
                output.append(scalar)
                index += 1
                continue
            }
            var end = index + 1
            while end < scalars.count, end - index <= 32, scalars[end] != ";", scalars[end] != "&",
                !scalars[end].isASCIIWhitespace, scalars[end] != "<"
            { end += 1 }
            let hasSemicolon = end < scalars.count && scalars[end] == ";"
            let body = String(String.UnicodeScalarView(scalars[(index + 1)..<min(end, scalars.count)]))
            var replacement: String?
            if body.hasPrefix("#") {
                let digits = body.dropFirst()
                let value: UInt32?
                if digits.hasPrefix("x") || digits.hasPrefix("X") {
                    value = UInt32(digits.dropFirst(), radix: 16)
                } else {
                    value = UInt32(digits, radix: 10)
                }
                if let value {
                    // HTML maps 0x80–0x9F references to windows-1252 (HTML 5 §13.2.5.80); null and surrogates are invalid.
                    let mapped = (0x80...0x9F).contains(value) ? windows1252(UInt8(value)) : value
                    replacement = Unicode.Scalar(mapped).flatMap { $0.value == 0 ? nil : String($0) } ?? "\u{FFFD}"
                }
            } else if let named = namedEntities[body] {
                replacement = named
            }
            if let replacement {
                output.append(contentsOf: replacement.unicodeScalars)
                index = hasSemicolon ? end + 1 : end
            } else {
                output.append(scalar)
                index += 1
            }
        }
        return String(output)
    }

    private static func windows1252(_ byte: UInt8) -> UInt32 {
        let decoded = CharsetDecoder.convert([byte], from: "CP1252")
        return decoded.errors == 0 ? (decoded.text.unicodeScalars.first?.value ?? 0xFFFD) : 0xFFFD
    }

    /// Accumulates text with collapsed whitespace and explicit line and paragraph breaks.
    private struct TextBuilder {
        private var scalars: [Unicode.Scalar] = []
        private var pendingSpace = false
        private var pendingBreaks = 0

        var count: Int { scalars.count }

        func text(from start: Int) -> String {
            guard start <= scalars.count else { return "" }
            return String(String.UnicodeScalarView(scalars[start...]))
        }

        mutating func appendText(_ text: String, pre: Bool) {
            for scalar in text.unicodeScalars {
                if pre {
                    flushBreaks()
                    if scalar == "\r" { continue }
                    scalars.append(scalar == "\u{00A0}" ? " " : scalar)
                    continue
                }
                if scalar.isASCIIWhitespace {
                    pendingSpace = true
                    continue
                }
                flushBreaks()
                if pendingSpace, let last = scalars.last, last != "\n", last != " " { scalars.append(" ") }
                pendingSpace = false
                scalars.append(scalar == "\u{00A0}" ? " " : scalar)
            }
        }

        mutating func appendRaw(_ text: String) {
            flushBreaks()
            pendingSpace = false
            scalars.append(contentsOf: text.unicodeScalars)
        }

        private mutating func flushBreaks() {
            if pendingBreaks > 0 {
                while let last = scalars.last, last == " " { scalars.removeLast() }
                if !scalars.isEmpty {
                    var existing = 0
                    var position = scalars.count - 1
                    while position >= 0, scalars[position] == "\n" {
                        existing += 1
                        position -= 1
                    }
                    for _ in existing..<max(existing, pendingBreaks) { scalars.append("\n") }
                }
                pendingBreaks = 0
                pendingSpace = false
            }
        }

        /// A `<br>`: one more line break before the next text.
        mutating func lineBreak() {
            pendingBreaks += 1
            pendingSpace = false
        }

        /// A block boundary: the next text starts on a new line.
        mutating func blockBreak() {
            pendingBreaks = max(pendingBreaks, 1)
            pendingSpace = false
        }

        mutating func paragraphBreak() {
            pendingBreaks = max(pendingBreaks, 2)
            pendingSpace = false
        }

        mutating func cellBreak() {
            if let last = scalars.last, last != "\n" { pendingSpace = true }
        }

        func finish() -> String {
            let text = String(String.UnicodeScalarView(scalars))
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
                var trimmed = line[...]
                while let last = trimmed.last, last == " " || last == "\t" { trimmed = trimmed.dropLast() }
                return trimmed
            }
            // At most one blank line in a row.
            var collapsed: [Substring] = []
            for line in lines {
                if line.isEmpty, let last = collapsed.last, last.isEmpty { continue }
                collapsed.append(line)
            }
            lines = collapsed
            return lines.joined(separator: "\n").trimmingASCIIWhitespace()
        }
    }
}
