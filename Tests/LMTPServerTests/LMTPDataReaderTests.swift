import NIOCore
import Testing

@testable import LMTPServer

/// Content after DATA as sent, and what the reader must make of it.
struct DataFixture: CustomTestStringConvertible, Sendable {
    var name: String
    var sent: String
    /// nil when the content must not end.
    var content: String?
    var leftOver = ""
    var testDescription: String { name }
}

let dataFixtures: [DataFixture] = [
    DataFixture(name: "an empty message", sent: ".\r\n", content: ""),
    DataFixture(name: "plain lines", sent: "a\r\nb\r\n.\r\n", content: "a\r\nb\r\n"),
    DataFixture(
        name: "a stuffed dot is removed (RFC 5321 §4.5.2)", sent: "..\r\n...x\r\n.\r\n", content: ".\r\n..x\r\n"),
    DataFixture(name: "a dot inside a line stays", sent: "a.b\r\n. \r\n.\r\n", content: "a.b\r\n \r\n"),
    DataFixture(
        name: "bytes after the end are left for the commands", sent: "a\r\n.\r\nQUIT\r\n", content: "a\r\n",
        leftOver: "QUIT\r\n"),
    DataFixture(name: "LF.LF does not end the content", sent: "a\n.\nb", content: nil),
    DataFixture(name: "CRLF.LF does not end the content", sent: "a\r\n.\nb", content: nil),
    DataFixture(name: "LF.CRLF does not end the content", sent: "a\n.\r\nb", content: nil),
    DataFixture(name: "CR.CRLF does not end the content", sent: "a\r.\r\n", content: nil),
    DataFixture(name: "a bare CR and CRCRLF are content", sent: "a\rb\r\r\n.\r\n", content: "a\rb\r\r\n"),
    DataFixture(name: "dot CR x at a line start loses its dot", sent: ".\rx\r\n.\r\n", content: "\rx\r\n"),
    DataFixture(name: "8-bit bytes pass", sent: "caf\u{e9}\r\n.\r\n", content: "caf\u{e9}\r\n"),
]

@Suite("LMTP DATA reader")
struct LMTPDataReaderTests {
    @Test("dot-unstuffing and the end of the content", arguments: dataFixtures)
    func fixture(_ fixture: DataFixture) {
        var reader = LMTPDataReader(maximumSize: 1 << 20)
        var buffer = ByteBuffer(string: fixture.sent)
        let ended = reader.consume(&buffer)
        #expect(ended == (fixture.content != nil))
        if let content = fixture.content {
            #expect(String(buffer: reader.content) == content)
            #expect(String(buffer: buffer) == fixture.leftOver)
        }
    }

    @Test("split at every byte, the content is the same", arguments: dataFixtures)
    func everySplit(_ fixture: DataFixture) {
        let bytes = Array(fixture.sent.utf8)
        for split in 0...bytes.count {
            var reader = LMTPDataReader(maximumSize: 1 << 20)
            var first = ByteBuffer(bytes: bytes[..<split])
            var ended = reader.consume(&first)
            var second = ByteBuffer(bytes: bytes[split...])
            if !ended {
                #expect(first.readableBytes == 0)
                ended = reader.consume(&second)
            }
            #expect(ended == (fixture.content != nil), "split at \(split)")
            if let content = fixture.content, ended {
                #expect(String(buffer: reader.content) == content, "split at \(split)")
            }
        }
    }

    @Test("past the size limit nothing is kept, and the end is still found")
    func sizeLimit() {
        var reader = LMTPDataReader(maximumSize: 10)
        var buffer = ByteBuffer(string: "0123456789\r\n")
        let endedBuffer = reader.consume(&buffer)
        #expect(!endedBuffer)
        #expect(reader.isOversized)
        #expect(reader.content.capacity == 0)
        for _ in 0..<1000 {
            var more = ByteBuffer(string: String(repeating: "x", count: 1000) + "\r\n")
            let endedMore = reader.consume(&more)
            #expect(!endedMore)
        }
        #expect(reader.content.capacity == 0)
        var end = ByteBuffer(string: ".\r\n")
        let endedEnd = reader.consume(&end)
        #expect(endedEnd)
        #expect(reader.size == 12 + 1000 * 1002)
    }

    @Test("exactly at the limit the message is kept")
    func atLimit() {
        var reader = LMTPDataReader(maximumSize: 5)
        var buffer = ByteBuffer(string: "abc\r\n.\r\n")
        let endedBuffer = reader.consume(&buffer)
        #expect(endedBuffer)
        #expect(!reader.isOversized)
        #expect(String(buffer: reader.content) == "abc\r\n")
    }
}
