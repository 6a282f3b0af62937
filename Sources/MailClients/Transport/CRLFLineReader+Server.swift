import MailWire
import NIOCore

extension CRLFLineReader {
    /// Reads one line a server sent (SMTP reply, POP3 status), without its CRLF; nil while it is incomplete. A
    /// line too long, a bare LF or a bare CR (RFC 5321 §2.3.8 and RFC 1939 §3 allow CR and LF only as CRLF) is the
    /// server's fault, said as a MailClientError.
    mutating func serverLine(from buffer: inout ByteBuffer) throws(MailClientError) -> ArraySlice<UInt8>? {
        let line: [UInt8]
        do throws(Failure) {
            guard let read = try read(from: &buffer) else { return nil }
            line = read
        } catch {
            switch error {
            case .tooLong:
                throw MailClientError(.responseTooLarge, "a line from the server exceeds \(maximumLength) bytes")
            case .bareLineFeed:
                throw MailClientError(.protocolViolation, "the server sent a bare LF; lines must end in CRLF")
            }
        }
        if line.contains(UInt8(ascii: "\r")) {
            throw MailClientError(.protocolViolation, "the server sent a bare CR; lines must end in CRLF")
        }
        return line[...]
    }
}
