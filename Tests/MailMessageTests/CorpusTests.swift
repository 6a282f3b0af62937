import Foundation
import Testing

@testable import MailMessage

/// One fixture pair `NAME.eml` + `NAME.json` of the MIME corpus (see Fixtures/Corpus/README.md).
struct CorpusExpectation: Decodable {
    struct Attachment: Decodable, Equatable, CustomStringConvertible {
        var filename: String
        var contentType: String
        var size: Int
        var description: String { "\(filename) \(contentType) \(size)" }
    }

    var covers: String
    var from: String
    var fromName: String??
    var to: [String]?
    var cc: [String]?
    var summary: String
    var text: String?
    var textContains: [String]?
    var textNotContains: [String]?
    var reply: String?
    var replyContains: [String]?
    var replyNotContains: [String]?
    var attachments: [Attachment]?
    var automatic: Bool
    var automaticHeader: String?

    enum CodingKeys: String, CodingKey {
        case covers, from, fromName, to, cc, summary, text, textContains, textNotContains, reply, replyContains
        case replyNotContains, attachments, automatic, automaticHeader
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        covers = try container.decode(String.self, forKey: .covers)
        from = try container.decode(String.self, forKey: .from)
        // Absent = not checked; null = no display name.
        if container.contains(.fromName) {
            fromName = .some(
                try container.decodeNil(forKey: .fromName) ? nil : try container.decode(String.self, forKey: .fromName))
        } else {
            fromName = .none
        }
        to = try container.decodeIfPresent([String].self, forKey: .to)
        cc = try container.decodeIfPresent([String].self, forKey: .cc)
        summary = try container.decode(String.self, forKey: .summary)
        text = try container.decodeIfPresent(String.self, forKey: .text)
        textContains = try container.decodeIfPresent([String].self, forKey: .textContains)
        textNotContains = try container.decodeIfPresent([String].self, forKey: .textNotContains)
        reply = try container.decodeIfPresent(String.self, forKey: .reply)
        replyContains = try container.decodeIfPresent([String].self, forKey: .replyContains)
        replyNotContains = try container.decodeIfPresent([String].self, forKey: .replyNotContains)
        attachments = try container.decodeIfPresent([Attachment].self, forKey: .attachments)
        automatic = try container.decode(Bool.self, forKey: .automatic)
        automaticHeader = try container.decodeIfPresent(String.self, forKey: .automaticHeader)
    }
}

enum Corpus {
    /// The corpus folder: the copied test resource, or the source tree when resources are not available.
    static var directory: URL {
        if let resources = Bundle.module.resourceURL {
            let copied = resources.appendingPathComponent("Fixtures/Corpus")
            if FileManager.default.fileExists(atPath: copied.path) { return copied }
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/Corpus")
    }

    /// Fixture names (without extension) that have both files.
    static var names: [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let emls = Set(files.filter { $0.hasSuffix(".eml") }.map { String($0.dropLast(4)) })
        let jsons = Set(files.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) })
        return emls.intersection(jsons).sorted()
    }

    /// The API lowercases domains (RFC 5321 §2.4: domains are case-insensitive); compare on that basis.
    static func comparable(_ address: String) -> String {
        MailAddress(address: address).address
    }
}

@Suite("MIME corpus")
struct CorpusTests {
    @Test("the corpus has fixtures to run")
    func corpusIsPresent() {
        #expect(Corpus.names.count > 0)
    }

    @Test("each corpus fixture parses to what its JSON expects", arguments: Corpus.names)
    func fixture(_ name: String) throws {
        let raw = try [UInt8](Data(contentsOf: Corpus.directory.appendingPathComponent(name + ".eml")))
        let expected = try JSONDecoder().decode(
            CorpusExpectation.self, from: Data(contentsOf: Corpus.directory.appendingPathComponent(name + ".json")))
        let mail = MailParser.parse(raw)

        #expect(mail.from.first.map { $0.address } == Corpus.comparable(expected.from), "from")
        if case .some(let name) = expected.fromName {
            #expect(mail.from.first?.name == name, "fromName")
        }
        if let to = expected.to {
            #expect(mail.to.map(\.address) == to.map(Corpus.comparable), "to")
        }
        if let cc = expected.cc {
            #expect(mail.cc.map(\.address) == cc.map(Corpus.comparable), "cc")
        }
        #expect(SubjectNormalizer.summary(from: mail.subject) == expected.summary, "summary")
        let text = mail.text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let expectedText = expected.text {
            #expect(text == expectedText.trimmingCharacters(in: .whitespacesAndNewlines), "text")
        }
        for needle in expected.textContains ?? [] {
            #expect(text.contains(needle), "text contains \(needle)")
        }
        for needle in expected.textNotContains ?? [] {
            #expect(!text.contains(needle), "text does not contain \(needle)")
        }
        let reply = mail.replyText.trimmingCharacters(in: .whitespacesAndNewlines)
        if let expectedReply = expected.reply {
            #expect(reply == expectedReply.trimmingCharacters(in: .whitespacesAndNewlines), "reply")
        }
        for needle in expected.replyContains ?? [] {
            #expect(reply.contains(needle), "reply contains \(needle)")
        }
        for needle in expected.replyNotContains ?? [] {
            #expect(!reply.contains(needle), "reply does not contain \(needle)")
        }
        if let attachments = expected.attachments {
            let actual = mail.attachments.map {
                CorpusExpectation.Attachment(filename: $0.filename, contentType: $0.contentType, size: $0.data.count)
            }
            #expect(actual == attachments, "attachments")
        }
        let verdict = AutoReplyClassifier.classify(mail)
        #expect(verdict.isAutomatic == expected.automatic, "automatic")
        if expected.automatic {
            #expect(verdict.header == expected.automaticHeader, "automaticHeader")
        }
    }
}
