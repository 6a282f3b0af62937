/// A file carried by a message: a MIME leaf part that is not the body text (RFC 2183 Content-Disposition).
public struct MailAttachment: Sendable {
    /// A safe file name: no path parts, no control characters, never empty (see `MailAttachment.sanitizedFilename`).
    public var filename: String
    /// The media type, lowercased, without parameters ("application/pdf").
    public var contentType: String
    /// The Content-ID without angle brackets (RFC 2392), for inline images referenced as `cid:`.
    public var contentID: String?
    /// Whether the part is shown inline (disposition inline, or a related part of an HTML body).
    public var isInline: Bool
    /// The decoded bytes.
    public var data: [UInt8]

    /// Makes an attachment; `filename` is sanitised.
    public init(filename: String, contentType: String, contentID: String? = nil, isInline: Bool = false, data: [UInt8])
    {
        self.filename = MailAttachment.sanitizedFilename(filename, contentType: contentType)
        self.contentType = contentType
        self.contentID = contentID
        self.isInline = isInline
        self.data = data
    }

    /// A file name that is safe to store and show: the last path component only (both "/" and "\"), control and
    /// bidirectional-override characters removed, no leading dots, at most 200 characters (keeping the extension),
    /// and "attachment" plus an extension for the media type when nothing is left.
    public static func sanitizedFilename(_ raw: String, contentType: String = "application/octet-stream") -> String {
        var name = raw
        if let separator = name.lastIndex(where: { $0 == "/" || $0 == "\\" }) {
            name = String(name[name.index(after: separator)...])
        }
        name = String(
            String.UnicodeScalarView(
                name.unicodeScalars.filter { scalar in
                    let value = scalar.value
                    if value < 0x20 || value == 0x7F || (0x80...0x9F).contains(value) { return false }
                    // Bidirectional overrides and isolates can disguise an extension ("gpj.exe").
                    if (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value) || value == 0x200E
                        || value == 0x200F
                    {
                        return false
                    }
                    return true
                }))
        name = name.trimmingASCIIWhitespace()
        while name.hasPrefix(".") { name.removeFirst() }
        name = name.trimmingASCIIWhitespace()
        if name.count > 200 {
            if let dot = name.lastIndex(of: "."), name.distance(from: dot, to: name.endIndex) <= 16 {
                let ext = name[dot...]
                name = String(name.prefix(200 - ext.count)) + ext
            } else {
                name = String(name.prefix(200))
            }
        }
        if name.isEmpty { name = "attachment" + defaultExtension(for: contentType) }
        return name
    }

    /// A file extension for common media types, with its dot, or "" when unknown.
    static func defaultExtension(for contentType: String) -> String {
        switch contentType.lowercased() {
        case "text/plain": return ".txt"
        case "text/html": return ".html"
        case "text/calendar": return ".ics"
        case "text/csv": return ".csv"
        case "image/png": return ".png"
        case "image/jpeg", "image/jpg", "image/pjpeg": return ".jpg"
        case "image/gif": return ".gif"
        case "image/webp": return ".webp"
        case "image/heic": return ".heic"
        case "application/pdf": return ".pdf"
        case "application/zip": return ".zip"
        case "message/rfc822", "message/global": return ".eml"
        case "message/delivery-status", "message/global-delivery-status": return ".txt"
        case "text/rfc822-headers", "message/global-headers": return ".txt"
        case "application/pgp-signature": return ".asc"
        case "application/pkcs7-signature", "application/x-pkcs7-signature": return ".p7s"
        default: return ".bin"
        }
    }
}
