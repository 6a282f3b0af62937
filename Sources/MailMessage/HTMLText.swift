/// A small, forgiving HTML-to-text converter for mail bodies (not a browser).
///
/// Paragraphs and headings become blank-line separated blocks, `<br>` a line break, list items "- " or "1. ",
/// links "text <url>", entities (named and numeric, HTML 5 §13.5) are decoded, and `<script>`, `<style>`,
/// `<head>` and comments are dropped. With `removeQuotes`, the reply-quote containers of the big clients are
/// dropped too: Gmail `gmail_quote`, Apple/Thunderbird `<blockquote type="cite">`, Yahoo `yahoo_quoted`, and
/// everything from Outlook's `divRplyFwdMsg` / `appendonsend` on.
///
/// Works on UTF-8 bytes: every delimiter HTML uses is ASCII and no byte of a multi-byte scalar is, so text passes
/// through whole. Linear in the input by construction, whatever its shape:
/// - each byte is scanned from at most one "<": a tag ends before the next "<" and within 8 KiB, else that "<" is
///   text;
/// - each byte is scanned from at most one "&": a character reference is at most 32 bytes and ends at the next "&";
/// - at most one link is open at a time (an `<a>` start tag closes an open `a`, as HTML 5 §13.2.6.4.7 does), so the
///   output is read back at most once for the link texts;
/// - the output remembers how many line breaks it ends with instead of counting them again, and list indentation
///   is capped at `maxListIndent` levels, so every tag adds a bounded amount of output.
enum HTMLText {
    /// The deepest list nesting that still indents further; deeper items get this indentation.
    static let maxListIndent = 10

    /// A tag ends within this many bytes of its "<" (a longer one is text).
    private static let tagLengthLimit = 8192

    /// A start or end tag, with the few attributes the conversion reads as byte ranges into the input.
    private struct Tag {
        var name: String
        var kind: Kind
        var isClosing: Bool
        var isSelfClosing = false
        var href: Range<Int>?
        var alt: Range<Int>?
        var classes: Range<Int>?
        var id: Range<Int>?
        var type: Range<Int>?
    }

    /// What a tag does to the text; one dictionary lookup per tag.
    private enum Kind {
        case lineBreak, paragraph, listItem, list, pre, cell, link, image, rule, block, dropped, other
    }

    private static let kinds: [String: Kind] = {
        var table: [String: Kind] = [
            "br": .lineBreak, "p": .paragraph, "h1": .paragraph, "h2": .paragraph, "h3": .paragraph, "h4": .paragraph,
            "h5": .paragraph, "h6": .paragraph, "li": .listItem, "ul": .list, "ol": .list, "pre": .pre, "td": .cell,
            "th": .cell, "a": .link, "img": .image, "hr": .rule,
        ]
        for name in [
            "div", "table", "tr", "section", "article", "header", "footer", "nav", "aside", "form", "center", "address",
            "dl", "dt", "dd", "blockquote", "main", "figure", "figcaption", "tbody", "thead",
        ] {
            table[name] = .block
        }
        for name in ["script", "style", "head", "title", "template", "noscript", "xml", "svg", "object"] {
            table[name] = .dropped
        }
        return table
    }()
    private static let voidTags: Set<String> = ["br", "img", "hr", "meta", "link"]

    /// Converts HTML to readable plain text with LF line ends.
    static func text(from html: String, removeQuotes: Bool = false) -> String {
        var conversion = Conversion(input: Array(html.utf8), removeQuotes: removeQuotes)
        return conversion.run()
    }

    /// One conversion: the input, the output and the state of the elements open at the current position.
    private struct Conversion {
        let input: [UInt8]
        let removeQuotes: Bool
        var output = TextBuilder()
        /// The element whose content is being dropped (`<script>`…) and how deeply it is nested in itself.
        var dropUntil: String?
        var dropDepth = 0
        /// The reply-quote container being dropped and how deeply it is nested in itself.
        var quoteTag: String?
        var quoteDepth = 0
        var preDepth = 0
        var listStack: [(ordered: Bool, counter: Int)] = []
        /// The open link: its address (entity-decoded, trimmed) and where its text starts in the output.
        var link: (href: [UInt8], textStart: Int)?
        /// Reused for entity-decoded text.
        var scratch: [UInt8] = []

        init(input: [UInt8], removeQuotes: Bool) {
            self.input = input
            self.removeQuotes = removeQuotes
        }

        mutating func run() -> String {
            let count = input.count
            var index = 0
            while index < count {
                if input[index] == ASCII.lessThan {
                    // Comments and declarations.
                    if index + 3 < count, input[index + 1] == ASCII.bang, input[index + 2] == ASCII.hyphen,
                        input[index + 3] == ASCII.hyphen
                    {
                        index = find(HTMLText.commentClose, from: index + 4).map { $0 + 3 } ?? count
                        continue
                    }
                    if index + 1 < count, input[index + 1] == ASCII.bang || input[index + 1] == ASCII.question {
                        index = find(HTMLText.greaterThan, from: index).map { $0 + 1 } ?? count
                        continue
                    }
                    // HTML 5 §13.2.5.7: "</" not followed by a letter is a bogus comment up to the next ">" ("</>"
                    // is nothing), except at the very end, where it is text.
                    if index + 2 < count, input[index + 1] == ASCII.slash, !ASCII.isLetter(input[index + 2]) {
                        index = find(HTMLText.greaterThan, from: index + 2).map { $0 + 1 } ?? count
                        continue
                    }
                    guard let (tag, end) = parseTag(at: index) else {
                        if dropUntil == nil && quoteTag == nil {
                            output.appendText(HTMLText.lessThan[...], pre: preDepth > 0)
                        }
                        index += 1
                        continue
                    }
                    index = end
                    if !apply(tag) { break }
                    continue
                }
                var textEnd = index
                while textEnd < count, input[textEnd] != ASCII.lessThan { textEnd += 1 }
                if dropUntil == nil && quoteTag == nil { appendDecoded(index..<textEnd, pre: preDepth > 0) }
                index = textEnd
            }
            return output.finish()
        }

        /// The first position at or after `start` where `needle` occurs.
        private func find(_ needle: [UInt8], from start: Int) -> Int? {
            var index = start
            while index < input.count {
                if input[index] == needle[0], input[index...].starts(with: needle) { return index }
                index += 1
            }
            return nil
        }

        /// Applies one tag; false when the rest of the input is the quoted original (Outlook) and conversion stops.
        private mutating func apply(_ tag: Tag) -> Bool {
            if let closing = dropUntil {
                if tag.name == closing {
                    if tag.isClosing { dropDepth -= 1 } else if !tag.isSelfClosing { dropDepth += 1 }
                    if dropDepth == 0 { dropUntil = nil }
                }
                return true
            }
            if let quote = quoteTag {
                if tag.name == quote {
                    if tag.isClosing { quoteDepth -= 1 } else if !tag.isSelfClosing { quoteDepth += 1 }
                    if quoteDepth == 0 { quoteTag = nil }
                }
                return true
            }
            if !tag.isClosing && tag.kind == .dropped && !tag.isSelfClosing {
                dropUntil = tag.name
                dropDepth = 1
                return true
            }
            if removeQuotes && !tag.isClosing {
                let classes = lowered(tag.classes)
                let id = lowered(tag.id)
                if id == HTMLText.outlookReplyID || id == HTMLText.outlookAppendID {
                    // Outlook: everything from here on is the quoted original.
                    return false
                }
                if HTMLText.quoteClasses.contains(where: { classes[...].contains($0) })
                    || (tag.name == "blockquote" && lowered(tag.type) == HTMLText.cite)
                {
                    if !tag.isSelfClosing {
                        quoteTag = tag.name
                        quoteDepth = 1
                    }
                    // Leave a quote line in its place, so that the attribution above it is recognised as one
                    // and answers written between quotes stay separate.
                    output.blockBreak()
                    output.appendRaw(HTMLText.greaterThan)
                    output.blockBreak()
                    return true
                }
            }
            switch tag.kind {
            case .lineBreak:
                output.lineBreak()
            case .paragraph where tag.name == "p" && lowered(tag.classes).starts(with: HTMLText.mso):
                // Outlook writes every line as <p class=MsoNormal> with no margin: a line, not a paragraph.
                output.blockBreak()
            case .paragraph:
                output.paragraphBreak()
            case .listItem:
                output.blockBreak()
                if !tag.isClosing {
                    let depth = min(max(0, listStack.count - 1), HTMLText.maxListIndent)
                    let indent = String(repeating: "  ", count: depth)
                    if var top = listStack.last, top.ordered {
                        top.counter += 1
                        listStack[listStack.count - 1] = top
                        output.appendRaw(Array((indent + "\(top.counter). ").utf8))
                    } else {
                        output.appendRaw(Array((indent + "- ").utf8))
                    }
                }
            case .list:
                if tag.isClosing {
                    if !listStack.isEmpty { listStack.removeLast() }
                    if listStack.isEmpty { output.paragraphBreak() } else { output.blockBreak() }
                } else {
                    if listStack.isEmpty { output.paragraphBreak() } else { output.blockBreak() }
                    listStack.append((tag.name == "ol", 0))
                }
            case .pre:
                output.paragraphBreak()
                preDepth += tag.isClosing ? -1 : 1
                preDepth = max(0, preDepth)
            case .cell:
                if !tag.isClosing { output.cellBreak() }
            case .link:
                // HTML 5 §13.2.6.4.7: an `a` start tag while an `a` is open ends that one first. So at most one link
                // is open, and the texts of two links never overlap.
                closeLink()
                if !tag.isClosing, let href = tag.href {
                    var decoded: [UInt8] = []
                    HTMLText.decodeEntities(input[href], into: &decoded)
                    link = (Array(HTMLText.trimmed(decoded[...])), output.count)
                }
            case .image:
                if let alt = tag.alt, !HTMLText.trimmed(input[alt]).isEmpty {
                    var decoded: [UInt8] = []
                    HTMLText.decodeEntities(input[alt], into: &decoded)
                    output.appendText(decoded[...], pre: false)
                }
            case .rule:
                output.paragraphBreak()
            case .block:
                output.blockBreak()
            case .dropped, .other:
                break
            }
            return true
        }

        /// Ends the open link: "text <url>", or the address alone when the link has no text or its text is the
        /// address.
        private mutating func closeLink() {
            guard let open = link else { return }
            link = nil
            let href = open.href
            let bare = href.starts(with: HTMLText.mailto) ? Array(href.dropFirst(HTMLText.mailto.count)) : href
            guard !bare.isEmpty, href.first != ASCII.hash,
                !ASCII.lowercased(href.prefix(HTMLText.javascript.count)).elementsEqual(HTMLText.javascript)
            else { return }
            // Read before writing: a slice of the output kept alive over an append would copy the whole output.
            let (isEmpty, isAddress) = output.withTrimmedText(from: open.textStart) {
                ($0.isEmpty, $0.elementsEqual(bare) || $0.elementsEqual(href))
            }
            if isAddress { return }
            if isEmpty {
                // A link around an image or nothing: its address, as a word of its own.
                output.appendText(([ASCII.space] + bare + [ASCII.space])[...], pre: false)
            } else {
                output.appendRaw([ASCII.space, ASCII.lessThan] + bare + [ASCII.greaterThan])
            }
        }

        /// Text between tags, entities decoded.
        private mutating func appendDecoded(_ range: Range<Int>, pre: Bool) {
            guard input[range].contains(ASCII.ampersand) else {
                output.appendText(input[range], pre: pre)
                return
            }
            scratch.removeAll(keepingCapacity: true)
            HTMLText.decodeEntities(input[range], into: &scratch)
            output.appendText(scratch[...], pre: pre)
        }

        /// An attribute value lower-cased (ASCII), or empty when the attribute is absent.
        private func lowered(_ range: Range<Int>?) -> [UInt8] {
            range.map { ASCII.lowercased(input[$0]) } ?? []
        }

        /// Parses `<name attr="v" …>` at `start`; nil when this "<" does not start a tag.
        private func parseTag(at start: Int) -> (Tag, Int)? {
            let count = input.count
            var index = start + 1
            // A tag ends before the next "<" and within 8 KiB; otherwise this "<" is text. This keeps hostile input
            // ("<a href=\"" repeated with no ">") linear: each byte is scanned from one "<" only.
            let hardLimit = min(count, start + HTMLText.tagLengthLimit)
            var limit = start + 1
            while limit < hardLimit, input[limit] != ASCII.lessThan { limit += 1 }
            var closing = false
            if index < limit, input[index] == ASCII.slash {
                closing = true
                index += 1
            }
            // HTML 5 §13.2.5.6 and §13.2.5.7: a tag name starts with an ASCII letter; otherwise the "<" is text.
            guard index < limit, ASCII.isLetter(input[index]) else { return nil }
            let nameStart = index
            while index < limit, HTMLText.isNameByte(input[index]) { index += 1 }
            let nameBytes = input[nameStart..<index]
            let name =
                nameBytes.contains(where: ASCII.isUppercase)
                ? String(decoding: ASCII.lowercased(nameBytes), as: UTF8.self)
                : String(decoding: nameBytes, as: UTF8.self)
            var tag = Tag(name: name, kind: HTMLText.kinds[name] ?? .other, isClosing: closing)
            while index < limit, input[index] != ASCII.greaterThan {
                let byte = input[index]
                if byte.isASCIIWhitespace {
                    index += 1
                    continue
                }
                if byte == ASCII.slash {
                    tag.isSelfClosing = true
                    index += 1
                    continue
                }
                let attributeStart = index
                while index < limit, !input[index].isASCIIWhitespace, input[index] != ASCII.equals,
                    input[index] != ASCII.greaterThan
                {
                    index += 1
                }
                let attributeName = attributeStart..<index
                while index < limit, input[index].isASCIIWhitespace { index += 1 }
                var value = index..<index
                if index < limit, input[index] == ASCII.equals {
                    index += 1
                    while index < limit, input[index].isASCIIWhitespace { index += 1 }
                    if index < limit, input[index] == ASCII.doubleQuote || input[index] == ASCII.singleQuote {
                        let quote = input[index]
                        index += 1
                        let valueStart = index
                        while index < limit, input[index] != quote { index += 1 }
                        value = valueStart..<index
                        index += 1
                    } else {
                        let valueStart = index
                        while index < limit, !input[index].isASCIIWhitespace, input[index] != ASCII.greaterThan {
                            index += 1
                        }
                        value = valueStart..<index
                    }
                }
                if attributeName.isEmpty {
                    index += 1
                } else {
                    // Only the attributes the conversion reads are kept; a repeated one keeps its last value.
                    let attribute = input[attributeName]
                    if ASCII.equalsIgnoringCase(attribute, HTMLText.hrefName) {
                        tag.href = value
                    } else if ASCII.equalsIgnoringCase(attribute, HTMLText.altName) {
                        tag.alt = value
                    } else if ASCII.equalsIgnoringCase(attribute, HTMLText.className) {
                        tag.classes = value
                    } else if ASCII.equalsIgnoringCase(attribute, HTMLText.idName) {
                        tag.id = value
                    } else if ASCII.equalsIgnoringCase(attribute, HTMLText.typeName) {
                        tag.type = value
                    }
                }
            }
            // No ">" before the end or the limit: this "<" was text.
            if index >= limit { return nil }
            if HTMLText.voidTags.contains(name) { tag.isSelfClosing = true }
            return (tag, min(index + 1, count))
        }
    }

    /// A byte of a tag name after its first letter: ASCII letters and digits, ":" and "-" (`<o:p>`), and non-ASCII.
    private static func isNameByte(_ byte: UInt8) -> Bool {
        ASCII.isLetter(byte) || (0x30...0x39).contains(byte) || byte == ASCII.colon || byte == ASCII.hyphen
            || byte >= 0x80
    }

    /// The bytes without leading and trailing ASCII whitespace.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = bytes.firstIndex(where: { !$0.isASCIIWhitespace }),
            let last = bytes.lastIndex(where: { !$0.isASCIIWhitespace })
        else { return bytes[bytes.endIndex...] }
        return bytes[first...last]
    }

    private static let commentClose = Array("-->".utf8)
    private static let lessThan: [UInt8] = [ASCII.lessThan]
    private static let greaterThan: [UInt8] = [ASCII.greaterThan]
    private static let mailto = Array("mailto:".utf8)
    private static let javascript = Array("javascript:".utf8)
    private static let mso = Array("mso".utf8)
    private static let cite = Array("cite".utf8)
    private static let outlookReplyID = Array("divrplyfwdmsg".utf8)
    private static let outlookAppendID = Array("appendonsend".utf8)
    private static let quoteClasses = [
        Array("gmail_quote".utf8), Array("yahoo_quoted".utf8), Array("moz-cite-prefix".utf8),
    ]
    private static let hrefName = Array("href".utf8)
    private static let altName = Array("alt".utf8)
    private static let className = Array("class".utf8)
    private static let idName = Array("id".utf8)
    private static let typeName = Array("type".utf8)

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

    private static let namedEntityBytes: [String: [UInt8]] = namedEntities.mapValues { Array($0.utf8) }

    /// What HTML makes of references to 0x80–0x9F: the windows-1252 characters (HTML 5 §13.2.5.80).
    private static let windows1252Controls: [UInt32] = (0x80...0x9F).map { byte in
        let decoded = CharsetDecoder.convert([UInt8(byte)], from: "CP1252")
        return decoded.errors == 0 ? (decoded.text.unicodeScalars.first?.value ?? 0xFFFD) : 0xFFFD
    }

    /// Decodes character references: `&name;`, `&#123;`, `&#x1F600;` (invalid code points become U+FFFD).
    static func decodeEntities(_ text: String) -> String {
        guard text.utf8.contains(ASCII.ampersand) else { return text }
        var output: [UInt8] = []
        decodeEntities(Array(text.utf8)[...], into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes the character references in `bytes` (UTF-8) and appends the result to `output`.
    ///
    /// A reference is at most 32 bytes after its "&" and ends at the next "&", so each byte is looked at from one
    /// "&" at most.
    static func decodeEntities(_ bytes: ArraySlice<UInt8>, into output: inout [UInt8]) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == ASCII.ampersand else {
                output.append(byte)
                index += 1
                continue
            }
            var end = index + 1
            while end < bytes.endIndex, end - index <= 32, bytes[end] != ASCII.semicolon, bytes[end] != ASCII.ampersand,
                !bytes[end].isASCIIWhitespace, bytes[end] != ASCII.lessThan
            {
                end += 1
            }
            let hasSemicolon = end < bytes.endIndex && bytes[end] == ASCII.semicolon
            if let replacement = reference(bytes[(index + 1)..<end]) {
                output.append(contentsOf: replacement)
                index = hasSemicolon ? end + 1 : end
            } else {
                output.append(byte)
                index += 1
            }
        }
    }

    /// The UTF-8 bytes a reference's name (`amp`, `#233`, `#x1F600`) stands for, or nil when it is none.
    private static func reference(_ body: ArraySlice<UInt8>) -> [UInt8]? {
        guard let first = body.first else { return nil }
        let name = String(decoding: body, as: UTF8.self)
        guard first == ASCII.hash else { return namedEntityBytes[name] }
        let digits = name.dropFirst()
        let value: UInt32?
        if digits.hasPrefix("x") || digits.hasPrefix("X") {
            value = UInt32(digits.dropFirst(), radix: 16)
        } else {
            value = UInt32(digits, radix: 10)
        }
        guard let value else { return nil }
        // HTML maps 0x80–0x9F references to windows-1252 (HTML 5 §13.2.5.80); null and surrogates are invalid.
        let mapped = (0x80...0x9F).contains(value) ? windows1252Controls[Int(value - 0x80)] : value
        let scalar = Unicode.Scalar(mapped).flatMap { $0.value == 0 ? nil : $0 } ?? "\u{FFFD}"
        return Array(String(scalar).utf8)
    }

    /// Accumulates UTF-8 text with collapsed whitespace and explicit line and paragraph breaks.
    private struct TextBuilder {
        private var bytes: [UInt8] = []
        private var pendingSpace = false
        private var pendingBreaks = 0
        /// The output ends with `tailNewlines` LFs and then `tailSpaces` spaces: kept as bytes are appended, so that a
        /// break never counts the line ends already written (which made `<pre>` with many `<br>` quadratic).
        private var tailNewlines = 0
        private var tailSpaces = 0

        var count: Int { bytes.count }

        /// `body` applied to the output from `start` on, without leading and trailing ASCII whitespace.
        func withTrimmedText<Result>(from start: Int, _ body: (ArraySlice<UInt8>) -> Result) -> Result {
            guard start <= bytes.count else { return body([]) }
            return body(HTMLText.trimmed(bytes[start...]))
        }

        private mutating func push(_ byte: UInt8) {
            bytes.append(byte)
            if byte == ASCII.space {
                tailSpaces += 1
            } else if byte == ASCII.lineFeed {
                tailNewlines = tailSpaces > 0 ? 1 : tailNewlines + 1
                tailSpaces = 0
            } else {
                tailNewlines = 0
                tailSpaces = 0
            }
        }

        /// Appends text: whitespace runs become one space (except in `<pre>`), no-break spaces become spaces.
        mutating func appendText(_ text: ArraySlice<UInt8>, pre: Bool) {
            var index = text.startIndex
            while index < text.endIndex {
                var byte = text[index]
                var width = 1
                let isNoBreakSpace = byte == 0xC2 && index + 1 < text.endIndex && text[index + 1] == 0xA0
                if isNoBreakSpace {
                    byte = ASCII.space
                    width = 2
                }
                index += width
                if pre {
                    flushBreaks()
                    if byte == ASCII.carriageReturn { continue }
                    push(byte)
                    continue
                }
                if !isNoBreakSpace && byte.isASCIIWhitespace {
                    pendingSpace = true
                    continue
                }
                flushBreaks()
                if pendingSpace, let last = bytes.last, last != ASCII.lineFeed, last != ASCII.space {
                    push(ASCII.space)
                }
                pendingSpace = false
                push(byte)
            }
        }

        /// Appends bytes as they are, after any pending breaks.
        mutating func appendRaw(_ text: [UInt8]) {
            flushBreaks()
            pendingSpace = false
            for byte in text { push(byte) }
        }

        private mutating func flushBreaks() {
            guard pendingBreaks > 0 else { return }
            bytes.removeLast(tailSpaces)
            tailSpaces = 0
            if !bytes.isEmpty {
                let existing = tailNewlines
                for _ in existing..<max(existing, pendingBreaks) { push(ASCII.lineFeed) }
            }
            pendingBreaks = 0
            pendingSpace = false
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
            if let last = bytes.last, last != ASCII.lineFeed { pendingSpace = true }
        }

        /// The text: spaces and tabs at line ends cut, at most one blank line in a row, trimmed.
        func finish() -> String {
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count)
            var lineStart = 0
            var lastWasBlank = false
            var first = true
            while lineStart <= bytes.count {
                var lineEnd = lineStart
                while lineEnd < bytes.count, bytes[lineEnd] != ASCII.lineFeed { lineEnd += 1 }
                var contentEnd = lineEnd
                while contentEnd > lineStart, bytes[contentEnd - 1] == ASCII.space || bytes[contentEnd - 1] == ASCII.tab
                {
                    contentEnd -= 1
                }
                let isBlank = contentEnd == lineStart
                if !(isBlank && lastWasBlank && !first) {
                    if !first { output.append(ASCII.lineFeed) }
                    output.append(contentsOf: bytes[lineStart..<contentEnd])
                    lastWasBlank = isBlank
                    first = false
                }
                lineStart = lineEnd + 1
            }
            return String(decoding: HTMLText.trimmed(output[...]), as: UTF8.self)
        }
    }
}

/// ASCII bytes by name, and ASCII-only case mapping (HTML tag and attribute names are ASCII case-insensitive).
private enum ASCII {
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let bang = UInt8(ascii: "!")
    static let doubleQuote = UInt8(ascii: "\"")
    static let hash = UInt8(ascii: "#")
    static let ampersand = UInt8(ascii: "&")
    static let singleQuote = UInt8(ascii: "'")
    static let hyphen = UInt8(ascii: "-")
    static let slash = UInt8(ascii: "/")
    static let colon = UInt8(ascii: ":")
    static let semicolon = UInt8(ascii: ";")
    static let lessThan = UInt8(ascii: "<")
    static let equals = UInt8(ascii: "=")
    static let greaterThan = UInt8(ascii: ">")
    static let question = UInt8(ascii: "?")

    static func isLetter(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    static func isUppercase(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte)
    }

    /// Whether `bytes` is `lowercase` (which is lower-case ASCII) ignoring ASCII case.
    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: [UInt8]) -> Bool {
        bytes.count == lowercase.count && zip(bytes, lowercase).allSatisfy { ($0 | 0x20) == $1 }
    }

    static func lowercased<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
    }
}
