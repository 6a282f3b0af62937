import Foundation

/// Walks the MIME tree of one message, collecting body text segments, attachments and notes.
struct MIMEWalker {
    enum TextKind { case plain, html }

    struct TextSegment {
        var kind: TextKind
        var content: String
        /// Part of an inline forwarded message: its HTML keeps its quotes in the reply text too.
        var isForwarded = false
    }

    /// What is left of the parse budget of `MailParser.Options`, for the whole message with the messages inside it.
    struct Budget {
        var parts: Int
        var headerLines: Int
        var htmlBytes: Int
        /// Whether each limit has been noted, so that a mail over it gets one note, not one per part.
        var partsNoted = false
        var headerLinesNoted = false
        var htmlNoted = false
    }

    let options: MailParser.Options
    var notes: [String] = []
    var segments: [TextSegment] = []
    var attachments: [MailAttachment] = []
    var attachmentBytes = 0
    var partCounter = 0
    var budget: Budget
    /// How many inline forwarded messages enclose the part being walked.
    private var forwardedDepth = 0

    init(options: MailParser.Options) {
        self.options = options
        budget = Budget(
            parts: max(1, options.maxParts), headerLines: max(0, options.maxHeaderLines),
            htmlBytes: max(0, options.maxHTMLBytes))
    }

    /// Parses the whole message. An inline message/rfc822 part is walked into the same segments and attachments
    /// (see `walkEmbedded`), so the text is cleaned, converted and stripped once, not once per nesting level.
    ///
    /// Header names are looked up in lower case here: lookups ignore case, and a lower-case key needs no
    /// lower-casing of its own.
    mutating func parseMessage(_ raw: ArraySlice<UInt8>, depth: Int) -> ParsedMail {
        let (headers, bodyStart) = parseHeaders(raw)
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
        // The HTML that fits the budget, once for both conversions below.
        let html = segments.map { $0.kind == .html ? budgetedHTML($0.content) : "" }
        let converted = segments.indices.map {
            segments[$0].kind == .html ? HTMLText.text(from: html[$0]) : segments[$0].content
        }
        mail.text = Self.joinSegments(converted)
        // Without HTML of its own both joins read the same segments: reuse the text instead of cleaning it twice.
        let replySource =
            segments.contains { $0.kind == .html && !$0.isForwarded }
            ? Self.joinSegments(
                segments.indices.map {
                    segments[$0].kind == .html && !segments[$0].isForwarded
                        ? HTMLText.text(from: html[$0], removeQuotes: true) : converted[$0]
                }) : mail.text
        mail.replyText = QuoteStripper.strip(replySource)
        mail.attachments = attachments
        mail.notes = notes
        return mail
    }

    /// A header section, within what is left of the header-line budget.
    private mutating func parseHeaders(_ raw: ArraySlice<UInt8>) -> (headers: MailHeaders, bodyStart: Int) {
        let parsed = MailHeaders.parse(raw, notes: &notes, lineBudget: &budget.headerLines)
        if parsed.overBudget && !budget.headerLinesNoted {
            budget.headerLinesNoted = true
            notes.append(
                "parse budget: only the first \(options.maxHeaderLines) header lines were read; later header fields were skipped"
            )
        }
        return (parsed.headers, parsed.bodyStart)
    }

    /// `html`, or as much of it as is left of the HTML budget (cut at a character boundary), with a note.
    private mutating func budgetedHTML(_ html: String) -> String {
        let size = html.utf8.count
        if size <= budget.htmlBytes {
            budget.htmlBytes -= size
            return html
        }
        var end = budget.htmlBytes
        let bytes = html.utf8
        // Back up over UTF-8 continuation bytes, so that no character is cut in two.
        while end > 0, bytes[bytes.index(bytes.startIndex, offsetBy: end)] & 0xC0 == 0x80 { end -= 1 }
        budget.htmlBytes = 0
        if !budget.htmlNoted {
            budget.htmlNoted = true
            notes.append(
                "parse budget: only the first \(options.maxHTMLBytes) bytes of HTML were converted to text; the rest of the HTML was not read"
            )
        }
        return String(decoding: bytes.prefix(end), as: UTF8.self)
    }

    /// Counts one MIME part against the budget; false (with a note, once) when the budget is spent.
    private mutating func takePart() -> Bool {
        guard budget.parts > 0 else {
            notePartsBudget()
            return false
        }
        budget.parts -= 1
        return true
    }

    private mutating func notePartsBudget() {
        guard !budget.partsNoted else { return }
        budget.partsNoted = true
        notes.append(
            "parse budget: only the first \(options.maxParts) MIME parts were read; the parts after them were skipped")
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
        guard takePart() else { return }
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
                    "parse budget: MIME nesting deeper than \(options.maxDepth) levels; part kept undecoded as an attachment"
                )
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
            let split = Self.splitMultipart(body, boundary: Array(boundary.utf8), maxParts: budget.parts)
            if split.overLimit { notePartsBudget() }
            if split.parts.isEmpty && !split.overLimit {
                notes.append("\(type) with no parts (boundary not found); read as text")
                if !attachmentsOnly { appendText(decodeText(Array(body), charset: nil, kind: .plain), kind: .plain) }
                return
            }
            if !split.closed && !split.overLimit {
                notes.append("\(type) is missing its final boundary; parts up to the end were kept")
            }
            var children: [(MailHeaders, ArraySlice<UInt8>)] = []
            for part in split.parts {
                let parsed = parseHeaders(part)
                children.append((parsed.headers, part[min(parsed.bodyStart, part.endIndex)...]))
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
                notes.append(
                    "parse budget: MIME nesting deeper than \(options.maxDepth) levels; message kept as an attachment")
                addAttachment(
                    name: filename, contentType: type, contentID: contentID, isInline: false, data: Array(data))
                return
            }
            if isAttachmentDisposition || attachmentsOnly {
                // Only the subject is needed, for the file name: the attached message is not walked.
                let notesBefore = notes.count
                let subject = parseHeaders(data).headers["subject"].map {
                    EncodedWord.decode($0, notes: &notes).trimmingASCIIWhitespace()
                }
                markForwarded(notesFrom: notesBefore)
                let name = filename ?? subject.flatMap { $0.isEmpty ? nil : $0 + ".eml" } ?? "forwarded-message.eml"
                addAttachment(name: name, contentType: type, contentID: contentID, isInline: false, data: Array(data))
            } else {
                walkEmbedded(data, depth: depth + 1)
            }
            return
        }

        let isBodyType =
            type == "text/plain" || type == "text/html"
            || (isRoot && type.hasPrefix("text/") && type != "text/calendar")
        let isBody = isBodyType && !isAttachmentDisposition && (filename == nil || isRoot) && !attachmentsOnly
        if isBody {
            let kind: TextKind = type == "text/html" ? .html : .plain
            var text = decodeText(Array(data), charset: contentType.parameters["charset"], kind: kind)
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
        addAttachment(name: filename, contentType: type, contentID: contentID, isInline: inline, data: Array(data))
    }

    /// Set while walking a non-root part of multipart/related.
    private var relatedInlineFlag = false

    /// An inline forwarded message (RFC 2046 §5.2.1): a header block, then its text joins the body and its
    /// attachments ours. It is walked by this walker, so its parts count against the same budget, and its notes are
    /// marked as the forwarded message's.
    private mutating func walkEmbedded(_ raw: ArraySlice<UInt8>, depth: Int) {
        let notesBefore = notes.count
        let (headers, bodyStart) = parseHeaders(raw)
        var block = "---------- Forwarded message ----------\n"
        if let from = headers["from"] { block += "From: \(EncodedWord.decode(from, notes: &notes))\n" }
        if let date = headers["date"] { block += "Date: \(date)\n" }
        if let subject = headers["subject"] { block += "Subject: \(EncodedWord.decode(subject, notes: &notes))\n" }
        if let to = headers["to"] { block += "To: \(EncodedWord.decode(to, notes: &notes))\n" }
        segments.append(TextSegment(kind: .plain, content: block, isForwarded: true))
        let savedRelated = relatedInlineFlag
        // Notes number the parts of a forwarded message from its own start.
        let savedCounter = partCounter
        relatedInlineFlag = false
        partCounter = 0
        forwardedDepth += 1
        walk(
            headers: headers, body: raw[min(bodyStart, raw.endIndex)...], depth: depth, defaultType: "text/plain",
            isRoot: true, attachmentsOnly: false)
        forwardedDepth -= 1
        partCounter = savedCounter
        relatedInlineFlag = savedRelated
        markForwarded(notesFrom: notesBefore)
    }

    /// Marks the notes from `start` on as the forwarded message's.
    private mutating func markForwarded(notesFrom start: Int) {
        for position in start..<notes.count where !notes[position].hasPrefix("parse budget:") {
            notes[position] = "forwarded message: " + notes[position]
        }
    }

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
        // Ranking reads within the budget left, but spends none of it: the walk below does.
        let partLimit = budget.parts
        var lineLimit = budget.headerLines
        func rank(_ headers: MailHeaders, _ body: ArraySlice<UInt8>, level: Int = 0) -> Int {
            var scratch: [String] = []
            let type = MIMEHeaderValue(headers["content-type"] ?? "text/plain", notes: &scratch).value
            let disposition = headers["content-disposition"].map { MIMEHeaderValue($0, notes: &scratch).value }
            if disposition == "attachment" { return 0 }
            if type == "text/plain" || type.isEmpty || !type.contains("/") { return 3 }
            if type == "text/html" { return 2 }
            // Deeper than four levels it is not looked into, but may still hold text: a last resort, never dropped.
            if type.hasPrefix("multipart/") && level >= 4 { return 1 }
            if type.hasPrefix("multipart/") {
                let contentType = MIMEHeaderValue(headers["content-type"] ?? "", notes: &scratch)
                guard let boundary = contentType.parameters["boundary"] else { return 0 }
                let firstOnly = type == "multipart/related" || type == "multipart/mixed"
                let parts = Self.splitMultipart(
                    body, boundary: Array(boundary.utf8), maxParts: firstOnly ? min(1, partLimit) : partLimit
                ).parts
                var best = 0
                for part in parts {
                    let parsed = MailHeaders.parse(part, notes: &scratch, lineBudget: &lineLimit)
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
        segments.append(TextSegment(kind: kind, content: text, isForwarded: forwardedDepth > 0))
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

    /// The part's bytes with the transfer encoding undone; the body itself (not a copy) when there is none to undo.
    private mutating func decodeTransfer(_ body: ArraySlice<UInt8>, encoding: String) -> ArraySlice<UInt8> {
        switch encoding {
        case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
            return body
        case "base64":
            let result = TransferEncoding.decodeBase64(body)
            if result.problems > 0 {
                notes.append(
                    "part \(partCounter): base64 with \(result.problems) stray or missing character(s); decoded leniently"
                )
            }
            return result.bytes[...]
        case "quoted-printable":
            let result = TransferEncoding.decodeQuotedPrintable(body)
            if result.problems > 0 {
                notes.append("part \(partCounter): quoted-printable with \(result.problems) bad escape(s) kept as text")
            }
            return result.bytes[...]
        default:
            notes.append("part \(partCounter): unknown Content-Transfer-Encoding \(encoding.prefix(40)); kept as is")
            return body
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
    /// close delimiter is missing. At most `maxParts` parts are returned; `overLimit` says that more followed, and the
    /// body after them is not read.
    static func splitMultipart(_ body: ArraySlice<UInt8>, boundary: [UInt8], maxParts: Int = .max) -> (
        parts: [ArraySlice<UInt8>], closed: Bool, overLimit: Bool
    ) {
        let delimiter: [UInt8] = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            let lineEnd = lineFeed(in: body, from: lineStart)
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
                    if isClose { return (parts, true, false) }
                    // Another part starts here: one too many stops the split.
                    if parts.count >= maxParts { return (parts, false, true) }
                    partStart = next
                }
            }
            lineStart = next
        }
        if let start = partStart { parts.append(body[start..<body.endIndex]) }
        return (parts, false, false)
    }

    /// The index of the first LF at or after `start`, or `bytes.endIndex`. With memchr: a nested multipart's body
    /// is scanned once for each level around it, so this loop is the walk's hottest.
    static func lineFeed(in bytes: ArraySlice<UInt8>, from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            let offset = start - bytes.startIndex
            guard let base = buffer.baseAddress, offset < buffer.count,
                let found = memchr(base + offset, 0x0A, buffer.count - offset)
            else { return bytes.endIndex }
            return bytes.startIndex + UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
        }
    }

    /// Undoes format=flowed (RFC 3676 §4.2): a line ending in a space continues on the next line; space-stuffing
    /// is removed; the signature separator "-- " is never joined; quote depth changes end a paragraph.
    ///
    /// A paragraph grows in place: joining it as `existing + content` copied it once per line, which made a
    /// paragraph of many flowed lines quadratic.
    static func unflow(_ text: String, deleteSpace: Bool) -> String {
        // CRLF to LF on bytes (Foundation's replacingOccurrences took more than half of the time).
        var normalized = text
        if text.utf8.contains(0x0D) {
            let bytes = Array(text.utf8)
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count)
            for (index, byte) in bytes.enumerated()
            where !(byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A) {
                output.append(byte)
            }
            normalized = String(decoding: output, as: UTF8.self)
        }
        let lines = normalized.split(separator: "\n", omittingEmptySubsequences: false)
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
            if current != nil, currentDepth == depth {
                current?.append(content)
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
