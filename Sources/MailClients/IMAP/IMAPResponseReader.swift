import NIOCore

/// Reads a server's IMAP byte stream the way a connection does (frames with their literals, then responses) and
/// returns the whole messages that FETCH responses carried.
///
/// For benchmarks and tools that replay a recorded session; `IMAPConnection` runs the same frame decoder and response
/// parser inside its channel pipeline, with the same limits.
public struct IMAPResponseReader: Sendable {
    private var decoder: IMAPFrameDecoder
    private var buffer = ByteBuffer()
    /// Every response read so far, FETCH or not (tagged, untagged and continuation requests).
    public private(set) var responseCount = 0

    /// A reader enforcing `limits`, the production limits by default.
    public init(limits: IMAPFrameLimits = IMAPFrameLimits()) {
        decoder = IMAPFrameDecoder(limits: limits)
    }

    /// Takes `bytes` as they came from the server (any split) and returns, in order, the messages of the FETCH
    /// responses they complete that carry a UID and `BODY[]` (RFC 3501 §7.4.2). Bytes of an incomplete response stay
    /// buffered for the next call. Throws `MailClientError` (`.responseTooLarge`, `.protocolViolation`) where a
    /// connection would fail.
    public mutating func read(_ bytes: [UInt8]) throws -> [IMAPFetchedMessage] {
        buffer.writeBytes(bytes)
        var messages: [IMAPFetchedMessage] = []
        while let frame = try decoder.decode(buffer: &buffer) {
            responseCount += 1
            guard case .untagged(.fetch(_, let attributes)) = try IMAPResponseParser.parse(frame),
                let uid = attributes.uid, let body = attributes.body
            else { continue }
            messages.append(
                IMAPFetchedMessage(
                    uid: uid, flags: attributes.flags ?? [], internalDate: attributes.internalDate,
                    size: attributes.rfc822Size ?? body.count, raw: body))
        }
        buffer.discardReadBytes()
        return messages
    }
}
