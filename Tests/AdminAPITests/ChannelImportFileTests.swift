import AdminAPI
import Foundation
import Testing

@Suite("ChannelImport file reader: CSV (RFC 4180) and JSON lines")
struct ChannelImportFileTests {
    static let columns = ChannelImportFile.Columns(
        allowed: ["project", "address", "host", "port", "request-type", "extra-address", "insecure-plaintext"],
        required: ["project", "address", "request-type"])

    /// A file, how it is read, and the rows (line and cells) or the error it must give.
    struct Fixture: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var format: ChannelImportFile.Format = .csv
        var rows: [ChannelImportFile.Row] = []
        /// The error's line and a piece of its message, when the file must be refused.
        var error: (line: Int?, says: String)?

        var testDescription: String { name }
    }

    static func text(_ pairs: KeyValuePairs<String, String>) -> [String: ChannelImportFile.Cell] {
        Dictionary(uniqueKeysWithValues: pairs.map { ($0.key, .text($0.value)) })
    }

    static let fixtures: [Fixture] = [
        Fixture(
            name: "plain CSV with LF",
            text: "project,address,request-type\nHD,a@x.test,Help\nHD,b@x.test,Help\n",
            rows: [
                .init(line: 2, cells: text(["project": "HD", "address": "a@x.test", "request-type": "Help"])),
                .init(line: 3, cells: text(["project": "HD", "address": "b@x.test", "request-type": "Help"])),
            ]),
        Fixture(
            name: "CRLF line ends, no final line break, header in any case",
            text: "Project,ADDRESS,request-type,port\r\nHD,a@x.test,Help,993\r\nHD,b@x.test,Help,",
            rows: [
                .init(
                    line: 2,
                    cells: text(["project": "HD", "address": "a@x.test", "request-type": "Help", "port": "993"])
                ),
                .init(line: 3, cells: text(["project": "HD", "address": "b@x.test", "request-type": "Help"])),
            ]),
        Fixture(
            name: "a UTF-8 byte order mark before the header",
            text: "\u{FEFF}project,address,request-type\nHD,a@x.test,Help\n",
            rows: [.init(line: 2, cells: text(["project": "HD", "address": "a@x.test", "request-type": "Help"]))]),
        Fixture(
            name: "quoted fields with commas, doubled quotes and a line break; later lines keep their numbers",
            text:
                "project,address,request-type\nHD,a@x.test,\"Help, \"\"urgent\"\"\nnow\"\nHD,\"b@x.test\",Help\n",
            rows: [
                .init(
                    line: 2,
                    cells: text(["project": "HD", "address": "a@x.test", "request-type": "Help, \"urgent\"\nnow"])),
                .init(line: 4, cells: text(["project": "HD", "address": "b@x.test", "request-type": "Help"])),
            ]),
        Fixture(
            name: "blank lines are skipped, spaces around unquoted fields dropped, kept inside quotes",
            text: "project,address,request-type\n\n  \nHD , a@x.test ,\" Help \"\r\n\r\n",
            rows: [.init(line: 4, cells: text(["project": "HD", "address": "a@x.test", "request-type": " Help "]))]),
        Fixture(
            name: "an empty cell is no value",
            text: "project,address,request-type,host\nHD,a@x.test,Help,\n",
            rows: [.init(line: 2, cells: text(["project": "HD", "address": "a@x.test", "request-type": "Help"]))]),
        Fixture(
            name: "an unknown column is named with the columns that exist",
            text: "project,address,request-type,hots\nHD,a@x.test,Help,h\n",
            error: (1, "unknown column \"hots\"; the columns are project, address, host, port")),
        Fixture(
            name: "a column named twice",
            text: "project,address,address,request-type\n",
            error: (1, "the header names it twice")),
        Fixture(
            name: "a header without a required column",
            text: "project,request-type\nHD,Help\n",
            error: (1, "no address column")),
        Fixture(
            name: "a ragged row, too short",
            text: "project,address,request-type\nHD,a@x.test,Help\nHD,b@x.test\n",
            error: (3, "the row has 2 fields but the header has 3")),
        Fixture(
            name: "a ragged row, too long",
            text: "project,address,request-type\r\nHD,a@x.test,Help,extra\r\n",
            error: (2, "the row has 4 fields but the header has 3")),
        Fixture(
            name: "a required cell left empty",
            text: "project,address,request-type\nHD,,Help\n",
            error: (2, "column address: empty")),
        Fixture(
            name: "a quote that is never closed names the line it opened on",
            text: "project,address,request-type\nHD,a@x.test,Help\nHD,\"b@x.test,Help\n\n\n",
            error: (3, "never closed")),
        Fixture(
            name: "text after a closing quote",
            text: "project,address,request-type\nHD,\"a@x.test\"x,Help\n",
            error: (2, "text after the closing quote of field 2")),
        Fixture(
            name: "a quote inside an unquoted field",
            text: "project,address,request-type\nHD,a\"b@x.test,Help\n",
            error: (2, "a quote inside field 2")),
        Fixture(name: "an empty file", text: "", error: (nil, "the file is empty")),
        Fixture(
            name: "JSON lines with numbers, booleans, lists, null, CRLF and blank lines",
            text:
                "{\"project\":\"HD\",\"address\":\"a@x.test\",\"request-type\":\"Help\",\"port\":993}\r\n\n"
                + "{\"project\":\"HD\",\"address\":\"b@x.test\",\"request-type\":\"Help\",\"insecure-plaintext\":true,"
                + "\"extra-address\":[\"c@x.test\",\"d@x.test\"],\"host\":null}\n",
            format: .jsonLines,
            rows: [
                .init(
                    line: 1,
                    cells: text(["project": "HD", "address": "a@x.test", "request-type": "Help", "port": "993"])
                ),
                .init(
                    line: 3,
                    cells: text(["project": "HD", "address": "b@x.test", "request-type": "Help"]).merging(
                        [
                            "insecure-plaintext": .flag(true), "extra-address": .list(["c@x.test", "d@x.test"]),
                        ], uniquingKeysWith: { a, _ in a })),
            ]),
        Fixture(
            name: "JSON lines: an unknown key names its line",
            text:
                "{\"project\":\"HD\",\"address\":\"a@x.test\",\"request-type\":\"Help\"}\n{\"project\":\"HD\",\"adress\":\"b\"}\n",
            format: .jsonLines,
            error: (2, "unknown column \"adress\"")),
        Fixture(
            name: "JSON lines: a line that is not JSON",
            text: "{\"project\":\"HD\",\"address\":\"a@x.test\",\"request-type\":\"Help\"}\n{\"project\": \n",
            format: .jsonLines,
            error: (2, "not a JSON object")),
        Fixture(
            name: "JSON lines: an object as a value",
            text: "{\"project\":\"HD\",\"address\":\"a@x.test\",\"request-type\":\"Help\",\"port\":{\"n\":1}}\n",
            format: .jsonLines,
            error: (1, "column port: a value must be")),
        Fixture(
            name: "JSON lines: a missing required key",
            text: "{\"project\":\"HD\",\"request-type\":\"Help\"}\n",
            format: .jsonLines,
            error: (1, "column address: empty")),
    ]

    @Test("reads each fixture as written, or refuses it naming the line", arguments: fixtures)
    func read(_ fixture: Fixture) throws {
        let bytes = Array(fixture.text.utf8)
        if let expected = fixture.error {
            #expect {
                try ChannelImportFile.read(bytes, format: fixture.format, columns: Self.columns)
            } throws: { error in
                guard let error = error as? ChannelImportFileError else { return false }
                return error.line == expected.line && error.description.contains(expected.says)
            }
            return
        }
        let file = try ChannelImportFile.read(bytes, format: fixture.format, columns: Self.columns)
        #expect(file.format == fixture.format)
        #expect(file.rows == fixture.rows)
    }

    @Test("the format comes from the extension, else from the first character")
    func detectsFormat() {
        let csv = Array("project,address\n".utf8)
        let json = Array("\u{FEFF}\n  {\"project\":\"HD\"}\n".utf8)
        #expect(ChannelImportFile.detectFormat(path: "a.csv", content: json) == (.csv, true))
        #expect(ChannelImportFile.detectFormat(path: "a.JSONL", content: csv) == (.jsonLines, true))
        #expect(ChannelImportFile.detectFormat(path: "a.ndjson", content: csv) == (.jsonLines, true))
        #expect(ChannelImportFile.detectFormat(path: "mailboxes", content: json) == (.jsonLines, false))
        #expect(ChannelImportFile.detectFormat(path: "mailboxes.txt", content: csv) == (.csv, false))
    }

    @Test("malformed bytes are an error, never a crash: UTF-16 and invalid UTF-8")
    func malformedBytes() {
        #expect(throws: ChannelImportFileError.self) {
            try ChannelImportFile.read([0xFF, 0xFE, 0x70, 0x00], format: .csv, columns: Self.columns)
        }
        let invalid = Array("project,address,request-type\nHD,".utf8) + [0xC3, 0x28] + Array(",Help\n".utf8)
        #expect(throws: ChannelImportFileError.self) {
            try ChannelImportFile.read(invalid, format: .csv, columns: Self.columns)
        }
    }

    @Test("a big file is read in one pass: 100,000 rows and a 4 MB quoted field")
    func linear() throws {
        var text = "project,address,request-type\n"
        for index in 0..<100_000 { text += "HD,user\(index)@x.test,\"Help \"\"\(index)\"\"\"\n" }
        let clock = ContinuousClock()
        let started = clock.now
        let file = try ChannelImportFile.read(Array(text.utf8), format: .csv, columns: Self.columns)
        #expect(file.rows.count == 100_000)
        #expect(file.rows.last?.line == 100_001)
        // One huge field of doubled quotes: a quadratic scanner would take minutes here.
        let huge = "project,address,request-type\nHD,a@x.test,\"" + String(repeating: "\"\"", count: 2_000_000) + "\"\n"
        let big = try ChannelImportFile.read(Array(huge.utf8), format: .csv, columns: Self.columns)
        #expect(big.rows.first?.cells["request-type"] == .text(String(repeating: "\"", count: 2_000_000)))
        #expect(clock.now - started < .seconds(30))
    }
}
