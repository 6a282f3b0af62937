import Foundation

/// The top-level fields of a JSON object answer, as Sendable values (nested values are only known to be there).
struct JSONFields: Sendable {
    /// One top-level value.
    enum Value: Sendable, Equatable {
        case string(String)
        case number(Double)
        case other
    }

    /// The fields by name.
    var values: [String: Value]

    /// Parses `bytes` as one JSON object (Foundation's parser is linear and bounds nesting); `nil` for anything else.
    init?(_ bytes: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        var values: [String: Value] = [:]
        for (name, value) in object {
            if let text = value as? String {
                values[name] = .string(text)
            } else if let number = value as? NSNumber {
                // Not `value is Bool` first: on Linux an NSNumber of 0 or 1 also casts to Bool, so `"interval": 1`
                // would be lost. A JSON true or false is read as 1 or 0, which no field here minds.
                values[name] = .number(number.doubleValue)
            } else {
                values[name] = .other
            }
        }
        self.values = values
    }

    /// A string field; `nil` when absent, empty or not a string.
    func string(_ name: String) -> String? {
        guard case .string(let text) = values[name], !text.isEmpty else { return nil }
        return text
    }

    /// A whole-number field, given as a JSON number or a numeric string (Entra ID used to send `"3599"`).
    func int(_ name: String) -> Int? {
        switch values[name] {
        case .number(let value):
            guard value.rounded() == value, abs(value) < 1e15 else { return nil }
            return Int(value)
        case .string(let text):
            return Int(text.trimmingCharacters(in: .whitespaces))
        default:
            return nil
        }
    }

    /// The field names, sorted (to say what an answer had without showing values, which may be tokens).
    var names: String { values.keys.sorted().joined(separator: ", ") }
}
