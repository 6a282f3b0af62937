import MailWire
import NIOCore
import Testing

@Suite("CRLF line framing shared by the clients and the LMTP listener")
struct CRLFLineReaderTests {
    /// Bytes arriving in reads, and what the reader must make of them.
    struct Fixture: Sendable, CustomTestStringConvertible {
        var name: String
        var reads: [String]
        var maximumLength = 16
        var lines: [String]
        var failure: CRLFLineReader.Failure?
        /// Bytes left unread at the end.
        var rest = ""

        var testDescription: String { name }
    }

    static let fixtures: [Fixture] = [
        Fixture(name: "two lines in one read", reads: ["A1 OK\r\nB2 NO\r\n"], lines: ["A1 OK", "B2 NO"]),
        Fixture(
            name: "a line split across reads", reads: ["A1 ", "O", "K\r", "\nrest"], lines: ["A1 OK"], rest: "rest"),
        Fixture(name: "an empty line", reads: ["\r\n"], lines: [""]),
        Fixture(
            name: "a line of exactly the limit, CRLF included", reads: ["12345678901234\r\n"], lines: ["12345678901234"]
        ),
        Fixture(name: "one byte over the limit", reads: ["123456789012345\r\n"], lines: [], failure: .tooLong),
        Fixture(
            name: "no line end before the limit, dribbled", reads: (0..<20).map { _ in "x" }, lines: [],
            failure: .tooLong),
        Fixture(name: "a bare LF", reads: ["A1 OK\n"], lines: [], failure: .bareLineFeed),
        Fixture(name: "an LF as the very first byte", reads: ["\n"], lines: [], failure: .bareLineFeed),
        Fixture(name: "a bare CR inside is the caller's to judge", reads: ["a\rb\r\n"], lines: ["a\rb"]),
    ]

    @Test(arguments: fixtures)
    func frame(_ fixture: Fixture) {
        var reader = CRLFLineReader(maximumLength: fixture.maximumLength)
        var buffer = ByteBuffer()
        var lines: [String] = []
        var failure: CRLFLineReader.Failure?
        reading: for read in fixture.reads {
            buffer.writeString(read)
            do throws(CRLFLineReader.Failure) {
                while let line = try reader.read(from: &buffer) {
                    lines.append(String(decoding: line, as: UTF8.self))
                }
            } catch {
                failure = error
                break reading
            }
        }
        #expect(lines == fixture.lines)
        #expect(failure == fixture.failure)
        if fixture.failure == nil {
            #expect(String(buffer: buffer) == fixture.rest)
        }
    }

    @Test("a line sent one byte per read is searched once: the work is linear in its length")
    func dribbleIsLinear() throws {
        // 1 MiB one byte at a time: rescanning from the start each read would be 5·10^11 byte visits.
        var reader = CRLFLineReader(maximumLength: 1 << 21)
        var buffer = ByteBuffer()
        var early = 0
        for _ in 0..<(1 << 20) {
            buffer.writeInteger(UInt8(ascii: "x"))
            if try reader.read(from: &buffer) != nil { early += 1 }
        }
        #expect(early == 0)
        buffer.writeString("\r\n")
        #expect(try reader.read(from: &buffer)?.count == (1 << 20))
    }
}
