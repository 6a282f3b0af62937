import Foundation

/// Walks the MIME tree of one message, collecting body text segments, attachments and notes.
struct MIMEWalker {
    enum TextKind { case plain, html }

    struct TextSegment {
        var kind: TextKind
        var content: String
    }

    let options: MailParser.Options
    var notes: [String] = []
    var segments: [TextSegment] = []
    var attachments: [MailAttachment] = []
    var attachmentBytes = 0
    var partCounter = 0

    init(options: MailParser.Options) {
        self.options = options
    }

    /// Parses a whole message (top level or message/rfc822 inside).
    ///
    /// Header names are looked up in lower case here: lookups ignore case, and a lower-case key needs no
    /// lower-casing of its own.
    mutating func parseMessage(_ raw: ArraySlice<UInt8>, depth: Int) -> ParsedMail {
        let (headers, bodyStart) = MailHeaders.parse(raw, notes: &notes)
        let body = raw[min(bodyStart, raw.endIndex)...]
        walk(
            headers: headers, body: body, depth: depth, defaultType: "text/plain", isRoot: true, attachmentsOnly: false)

        var mail = ParsedMail(headers: headers)
        var headerNotes: [String] = []
        mail.from = MailAddress.parseList(headers.all("from").joined(separator: ", "), notes: &headerNotes)
        mail.sender = headers["sender"].flatMap { MailAddress.parseList($0, notes: &headerNotes).first }
        mail.replyTo = MailAddress.parseList(headers.all("reply-to").joined(separator: ", "), notes: &headerNotes)
        mail.to = MailAddress.parseList(headers.all("to").joined(separator: ", "), notes: &headerNotes)
        mail.cc = MailAddress.parseList(headers.all("cc").joined(separator: ", "), notes: &headerNotes)
        mail.subject = headers["subject"].map { EncodedWord.decode($0, notes: &headerNotes) }
        mail.messageID = headers["message-id"].flatMap { MailParser.messageIDs(in: $0).first ?? nonEmpty($0) }
        mail.inReplyTo = headers.all("in-reply-to").flatMap { MailParser.messageIDs(in: $0) }
        mail.references = headers.all("references").flatMap { MailParser.messageIDs(in: $0) }
        mail.date = headers["date"].flatMap(MailDate.parse)
        if let returnPath = headers.all("return-path").first {
            let trimmed = returnPath.trimmingASCIIWhitespace()
            if trimmed.isEmpty || trimmed.replacingOccurrences(of: " ", with: "") == "<>" {
                mail.returnPath = ""
            } else {
                mail.returnPath = MailAddress.parseList(trimmed).first?.address ?? trimmed
            }
        }
        notes = headerNotes + notes
        mail.text = Self.joinSegments(segments.map { $0.kind == .html ? HTMLText.text(from: $0.content) : $0.content })
        // Without HTML both joins read the same segments: reuse the text instead of cleaning it twice.
        let replySource =
            segments.contains { $0.kind == .html }
            ? Self.joinSegments(
                segments.map {
                    $0.kind == .html ? HTMLText.text(from: $0.content, removeQuotes: true) : $0.content
                }) : mail.text
        mail.replyText = QuoteStripper.strip(replySource)
        mail.attachments = attachments
        mail.notes = notes
        return mail
    }

    private func nonEmpty(_ value: String) -> String? {
        let trimmed = value.trimmingASCIIWhitespace()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Joins body segments with a blank line, normalises line ends to LF and removes control characters.
    static func joinSegments(_ parts: [String]) -> String {
        let cleaned = parts.map(cleanText).filter { !$0.isEmpty }
        return cleaned.joined(separator: "\n\n")
    }

    /// LF line ends; C0 controls other than tab and LF removed; trailing whitespace on lines kept except at the end.
    static func cleanText(_ text: String) -> String {
        // Works on UTF-8 bytes: every scalar removed or replaced here is ASCII except U+FEFF (EF BB BF), so the
        // output stays valid UTF-8.
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        var previousCR = false
        var index = 0
        while index < input.count {
            let byte = input[index]
            if byte == 0x0D {
                output.append(0x0A)
                previousCR = true
                index += 1
                continue
            }
            if byte == 0x0A && previousCR {
                previousCR = false
                index += 1
                continue
            }
            previousCR = false
            if byte == 0xEF, index + 2 < input.count, input[index + 1] == 0xBB, input[index + 2] == 0xBF {
                index += 3
                continue
            }
            index += 1
            if byte < 0x20 && byte != 0x0A && byte != 0x09 { continue }
            if byte == 0x7F { continue }
            output.append(byte)
        }
        // Drop whitespace at the end, then blank lines (only spaces and tabs) at the start.
        var end = output.count
        while end > 0, output[end - 1] == 0x20 || (0x09...0x0D).contains(output[end - 1]) { end -= 1 }
        var start = 0
        var lineStart = 0
        while lineStart < end {
            var position = lineStart
            while position < end, output[position] == 0x20 || output[position] == 0x09 { position += 1 }
            guard position < end, output[position] == 0x0A else { break }
            lineStart = position + 1
            start = lineStart
        }
        return String(decoding: output[start..<end], as: UTF8.self)
    }

    /// Walks one entity (a message or a part).
    mutating func walk(
        headers: MailHeaders, body: ArraySlice<UInt8>, depth: Int, defaultType: String, isRoot: Bool,
        attachmentsOnly: Bool
    ) {
        partCounter += 1
        var contentType = MIMEHeaderValue(headers["content-type"] ?? defaultType, notes: &notes)
        // RFC 2045 §5.2: a missing or unreadable Content-Type means text/plain; charset=us-ascii.
        if !contentType.value.contains("/") {
            if headers["content-type"] != nil { notes.append("unreadable Content-Type; treated as \(defaultType)") }
            let charset = contentType.parameters["charset"]
            contentType = MIMEHeaderValue(defaultType, notes: &notes)
            if let charset { contentType.parameters["charset"] = charset }
        }
        let disposition = headers["content-disposition"].map { MIMEHeaderValue($0, notes: &notes) }
        let type = contentType.value

        if type.hasPrefix("multipart/") {
            guard depth < options.maxDepth else {
                notes.append(
                    "MIME nesting deeper than \(options.maxDepth) levels; part kept undecoded as an attachment")
                addAttachment(name: nil, contentType: type, contentID: nil, isInline: false, data: Array(body))
                return
            }
            guard let boundary = contentType.parameters["boundary"], !boundary.isEmpty else {
                notes.append("\(type) without a boundary; read as text")
                if !attachmentsOnly {
                    appendText(
                        decodeText(Array(body), charset: contentType.parameters["charset"], kind: .plain), kind: .plain)
                }
                return
            }
            let split = Self.splitMultipart(body, boundary: Array(boundary.utf8))
            if split.parts.isEmpty {
                notes.append("\(type) with no parts (boundary not found); read as text")
                if !attachmentsOnly { appendText(decodeText(Array(body), charset: nil, kind: .plain), kind: .plain) }
                return
            }
            if !split.closed { notes.append("\(type) is missing its final boundary; parts up to the end were kept") }
            let children = split.parts.map { part -> (MailHeaders, ArraySlice<UInt8>) in
                let parsed = MailHeaders.parse(part, notes: &notes)
                return (parsed.headers, part[min(parsed.bodyStart, part.endIndex)...])
            }
            let childDefault = type == "multipart/digest" ? "message/rfc822" : "text/plain"
            switch type {
            case "multipart/alternative":
                walkAlternative(children, depth: depth + 1, attachmentsOnly: attachmentsOnly)
            case "multipart/related":
                // RFC 2387 §3.2: the root is the part named by "start", else the first.
                let start = contentType.parameters["start"].flatMap { MailParser.messageIDs(in: $0).first }
                let rootIndex =
                    children.firstIndex { child in
                        guard let start, let id = child.0["content-id"] else { return false }
                        return MailParser.messageIDs(in: id).first == start
                    } ?? 0
                for (position, child) in children.enumerated() {
                    walk(
                        headers: child.0, body: child.1, depth: depth + 1, defaultType: childDefault, isRoot: false,
                        attachmentsOnly: attachmentsOnly || position != rootIndex, relatedInline: position != rootIndex)
                }
            case "multipart/signed", "multipart/encrypted", "multipart/report":
                // RFC 1847 §2.1: the first part is the content; RFC 6522 §3: the first part is the human-readable
                // report. The signature, delivery status and returned message are attachments.
                for (position, child) in children.enumerated() {
                    walk(
                        headers: child.0, body: child.1, depth: depth + 1, defaultType: childDefault, isRoot: false,
                        attachmentsOnly: attachmentsOnly || position != 0)
                }
            default:
                for child in children {
                    walk(
                        headers: child.0, body: child.1, depth: depth + 1, defaultType: childDefault, isRoot: false,
                        attachmentsOnly: attachmentsOnly)
                }
            }
            return
        }

        let transferEncoding = (headers["content-transfer-encoding"] ?? "").trimmingASCIIWhitespace().lowercased()
        let data = decodeTransfer(body, encoding: transferEncoding)
        let filename = disposition?.parameters["filename"] ?? contentType.parameters["name"]
        let isAttachmentDisposition = disposition?.value == "attachment"
        let contentID = headers["content-id"].flatMap { MailParser.messageIDs(in: $0).first ?? nonEmpty($0) }

        if type == "message/rfc822" || type == "message/global" {
            guard depth < options.maxDepth else {
                notes.append("MIME nesting deeper than \(options.maxDepth) levels; message kept as an attachment")
                addAttachment(name: filename, contentType: type, contentID: contentID, isInline: false, data: data)
                return
            }
            var inner = MIMEWalker(options: options)
            inner.attachmentBytes = attachmentBytes
            let embedded = inner.parseMessage(data[...], depth: depth + 1)
            notes += inner.notes.map { "forwarded message: \($0)" }
            if isAttachmentDisposition || attachmentsOnly {
                let name =
                    filename
                    ?? ((embedded.subject.map { $0.trimmingASCIIWhitespace() }).flatMap {
                        $0.isEmpty ? nil : $0 + ".eml"
                    } ?? "forwarded-message.eml")
                addAttachment(name: name, contentType: type, contentID: contentID, isInline: false, data: data)
            } else {
                // An inline forwarded message (RFC 2046 §5.2.1): its text joins the body, its attachments ours.
                var block = "---------- Forwarded message ----------\n"
                if let from = embedded.headers["from"] { block += "From: \(EncodedWord.decode(from, notes: &notes))\n" }
                if let date = embedded.headers["date"] { block += "Date: \(date)\n" }
                if let subject = embedded.subject { block += "Subject: \(subject)\n" }
                if let to = embedded.headers["to"] { block += "To: \(EncodedWord.decode(to, notes: &notes))\n" }
                block += "\n" + embedded.text
                segments.append(TextSegment(kind: .plain, content: block))
                for attachment in embedded.attachments {
                    addAttachment(
                        name: attachment.filename, contentType: attachment.contentType, contentID: attachment.contentID,
                        isInline: attachment.isInline, data: attachment.data)
                }
            }
            return
        }

        let isBodyType =
            type == "text/plain" || type == "text/html"
            || (isRoot && type.hasPrefix("text/") && type != "text/calendar")
        let isBody = isBodyType && !isAttachmentDisposition && (filename == nil || isRoot) && !attachmentsOnly
        if isBody {
            let kind: TextKind = type == "text/html" ? .html : .plain
            var text = decodeText(data, charset: contentType.parameters["charset"], kind: kind)
            if kind == .plain, contentType.parameters["format"]?.lowercased() == "flowed" {
                text = Self.unflow(text, deleteSpace: contentType.parameters["delsp"]?.lowercased() == "yes")
            }
            appendText(text, kind: kind)
            return
        }
        if attachmentsOnly && isBodyType && !isAttachmentDisposition && filename == nil && !relatedInlineFlag {
            // The text of an alternative we did not choose.
            return
        }
        let inline = disposition?.value == "inline" || (relatedInlineFlag && disposition == nil)
        addAttachment(name: filename, contentType: type, contentID: contentID, isInline: inline, data: data)
    }

    /// Set while walking a non-root part of multipart/related.
    private var relatedInlineFlag = false

    mutating func walk(
        headers: MailHeaders, body: ArraySlice<UInt8>, depth: Int, defaultType: String, isRoot: Bool,
        attachmentsOnly: Bool, relatedInline: Bool
    ) {
        let saved = relatedInlineFlag
        relatedInlineFlag = relatedInline
        walk(
            headers: headers, body: body, depth: depth, defaultType: defaultType, isRoot: isRoot,
            attachmentsOnly: attachmentsOnly)
        relatedInlineFlag = saved
    }

    /// multipart/alternative (RFC 2046 §5.1.4): text/plain preferred, else HTML; the others give only attachments.
    private mutating func walkAlternative(
        _ children: [(MailHeaders, ArraySlice<UInt8>)], depth: Int, attachmentsOnly: Bool
    ) {
        func rank(_ headers: MailHeaders, _ body: ArraySlice<UInt8>, level: Int = 0) -> Int {
            var scratch: [String] = []
            let type = MIMEHeaderValue(headers["content-type"] ?? "text/plain", notes: &scratch).value
            let disposition = headers["content-disposition"].map { MIMEHeaderValue($0, notes: &scratch).value }
            if disposition == "attachment" { return 0 }
            if type == "text/plain" || type.isEmpty || !type.contains("/") { return 3 }
            if type == "text/html" { return 2 }
            if type.hasPrefix("multipart/"), level < 4 {
                let contentType = MIMEHeaderValue(headers["content-type"] ?? "", notes: &scratch)
                guard let boundary = contentType.parameters["boundary"] else { return 0 }
                let parts = Self.splitMultipart(body, boundary: Array(boundary.utf8)).parts
                var best = 0
                for part in parts {
                    let parsed = MailHeaders.parse(part, notes: &scratch)
                    best = max(
                        best, rank(parsed.headers, part[min(parsed.bodyStart, part.endIndex)...], level: level + 1))
                    if type == "multipart/related" || type == "multipart/mixed" { break }
                }
                return best
            }
            if type.hasPrefix("text/") && type != "text/calendar" { return 1 }
            return 0
        }
        if attachmentsOnly {
            for child in children {
                walk(
                    headers: child.0, body: child.1, depth: depth, defaultType: "text/plain", isRoot: false,
                    attachmentsOnly: true)
            }
            return
        }
        let ranks = children.map { rank($0.0, $0.1) }
        var order = Array(children.indices).filter { ranks[$0] > 0 }
        // Highest rank first (plain text, then HTML); among equals the first, as the corpus and most clients do.
        order.sort { ranks[$0] != ranks[$1] ? ranks[$0] > ranks[$1] : $0 < $1 }
        var tried: Set<Int> = []
        for candidate in order {
            tried.insert(candidate)
            let before = segments.count
            walk(
                headers: children[candidate].0, body: children[candidate].1, depth: depth, defaultType: "text/plain",
                isRoot: false, attachmentsOnly: false)
            let produced = segments[before...].contains { !$0.content.trimmingASCIIWhitespace().isEmpty }
            if produced { break }
            // An empty alternative (some senders send a blank text/plain): try the next one. Drop what it added.
            segments.removeSubrange(before...)
            notes.append("an empty alternative body was skipped")
        }
        for index in children.indices where !tried.contains(index) {
            walk(
                headers: children[index].0, body: children[index].1, depth: depth, defaultType: "text/plain",
                isRoot: false, attachmentsOnly: true)
        }
    }

    private mutating func appendText(_ text: String, kind: TextKind) {
        segments.append(TextSegment(kind: kind, content: text))
    }

    /// Decodes a text part's bytes: the declared charset, or for HTML a `<meta charset>` when none is declared.
    private mutating func decodeText(_ data: [UInt8], charset declared: String?, kind: TextKind) -> String {
        var charset = declared
        if charset == nil, kind == .html { charset = Self.metaCharset(data) }
        let decoded = CharsetDecoder.decode(data, label: charset)
        if let note = decoded.note { notes.append("part \(partCounter): \(note)") }
        return decoded.text
    }

    /// The charset named by an HTML `<meta charset=…>` or `<meta http-equiv … content="…; charset=…">`.
    static func metaCharset(_ data: [UInt8]) -> String? {
        let head = String(decoding: data.prefix(2048), as: UTF8.self).lowercased()
        guard let range = head.range(of: "charset=") else { return nil }
        var name = ""
        for character in head[range.upperBound...] {
            if character == "\"" || character == "'" {
                if name.isEmpty { continue }
                break
            }
            if character.isLetter || character.isNumber || character == "-" || character == "_" || character == ":"
                || character == "."
            {
                name.append(character)
            } else {
                break
            }
        }
        return name.isEmpty ? nil : name
    }

    private mutating func decodeTransfer(_ body: ArraySlice<UInt8>, encoding: String) -> [UInt8] {
        switch encoding {
        case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
            return Array(body)
        case "base64":
            let result = TransferEncoding.decodeBase64(body)
            if result.problems > 0 {
                notes.append(
                    "part \(partCounter): base64 with \(result.problems) stray or missing character(s); decoded leniently"
                )
            }
            return result.bytes
        case "quoted-printable":
            let result = TransferEncoding.decodeQuotedPrintable(body)
            if result.problems > 0 {
                notes.append("part \(partCounter): quoted-printable with \(result.problems) bad escape(s) kept as text")
            }
            return result.bytes
        default:
            notes.append("part \(partCounter): unknown Content-Transfer-Encoding \(encoding.prefix(40)); kept as is")
            return Array(body)
        }
    }

    private mutating func addAttachment(
        name: String?, contentType: String, contentID: String?, isInline: Bool, data: [UInt8]
    ) {
        let attachment = MailAttachment(
            filename: name ?? "", contentType: contentType, contentID: contentID, isInline: isInline, data: data)
        if attachmentBytes + data.count > options.maxAttachmentBytes {
            notes.append(
                "attachment \(attachment.filename) (\(contentType), \(data.count) bytes) dropped: over the \(options.maxAttachmentBytes)-byte attachment limit per message"
            )
            return
        }
        attachmentBytes += data.count
        attachments.append(attachment)
    }

    /// Splits a multipart body at its boundary (RFC 2046 §5.1.1): the CRLF before a delimiter belongs to it;
    /// transport padding after it is allowed; the preamble and epilogue are dropped. `closed` is false when the
    /// close delimiter is missing.
    static func splitMultipart(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> (
        parts: [ArraySlice<UInt8>], closed: Bool
    ) {
        let delimiter: [UInt8] = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            var lineEnd = lineStart
            while lineEnd < body.endIndex, body[lineEnd] != 0x0A { lineEnd += 1 }
            let next = lineEnd < body.endIndex ? lineEnd + 1 : lineEnd
            if body[lineStart] == UInt8(ascii: "-"), lineEnd - lineStart >= delimiter.count,
                body[lineStart..<(lineStart + delimiter.count)].elementsEqual(delimiter)
            {
                var rest = body[(lineStart + delimiter.count)..<lineEnd]
                let isClose = rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
                if isClose { rest = rest.dropFirst(2) }
                if rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    if let start = partStart {
                        var end = lineStart
                        if end > start, body[end - 1] == 0x0A { end -= 1 }
                        if end > start, body[end - 1] == 0x0D { end -= 1 }
                        parts.append(body[start..<max(start, end)])
                    }
                    if isClose { return (parts, true) }
                    partStart = next
                }
            }
            lineStart = next
        }
        if let start = partStart { parts.append(body[start..<body.endIndex]) }
        return (parts, false)
    }

    /// Undoes format=flowed (RFC 3676 §4.2): a line ending in a space continues on the next line; space-stuffing
    /// is removed; the signature separator "-- " is never joined; quote depth changes end a paragraph.
    static func unflow(_ text: String, deleteSpace: Bool) -> String {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        var output: [String] = []
        var current: String?
        var currentDepth = 0
        for rawLine in lines {
            var line = Substring(rawLine)
            var depth = 0
            while line.hasPrefix(">") {
                depth += 1
                line = line.dropFirst()
            }
            if line.hasPrefix(" ") { line = line.dropFirst() }  // space-stuffing (§4.4)
            let prefix = depth > 0 ? String(repeating: ">", count: depth) + " " : ""
            let isSignature = line == "-- "
            let flowed = line.hasSuffix(" ") && !isSignature
            var content = String(line)
            if flowed && deleteSpace { content.removeLast() }
            if let existing = current, currentDepth == depth {
                current = existing + content
            } else {
                if let existing = current { output.append(existing) }
                current = prefix + content
                currentDepth = depth
            }
            if !flowed {
                if let existing = current { output.append(existing) }
                current = nil
            }
        }
        if let existing = current { output.append(existing) }
        return output.joined(separator: "\n")
    }
}
