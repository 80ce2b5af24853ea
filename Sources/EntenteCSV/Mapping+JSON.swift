import Foundation

extension Mapping {
    /// Parses a mapping file's JSON.
    ///
    /// The mapping is checked against the catalog by ``CSVPlan``.
    /// - Throws: `CSVError` with code `invalidMapping`, naming the key or entry at fault.
    public init(json: [UInt8]) throws(CSVError) {
        do {
            self = try JSONDecoder().decode(Mapping.self, from: Data(json))
        } catch let error as DecodingError {
            throw CSVError(.invalidMapping, "invalid mapping: \(Self.explain(error))")
        } catch {
            throw CSVError(.invalidMapping, "invalid mapping: not valid JSON")
        }
    }

    /// Reads a mapping file.
    /// - Throws: `CSVError` if the file cannot be read or is not a valid mapping.
    public init(contentsOfFile path: String) throws(CSVError) {
        let bytes = try FileIO.read(path)
        do { try self.init(json: bytes) } catch {
            throw CSVError(error.code, "\(path): \(error.message)")
        }
    }

    /// The mapping as pretty-printed JSON, keys sorted.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text.isEmpty ? "the top level" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let at = context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))"
            return "missing key \"\(key.stringValue)\"\(at)"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let expected = type == String.self ? "a string" : "\(type)".hasPrefix("Array") ? "an array" : "an object"
            return "\(path(context.codingPath)) should be \(expected)"
        case .dataCorrupted(let context):
            if context.underlyingError != nil || context.debugDescription.hasPrefix("The given data was not valid JSON")
            {
                return "not valid JSON (check the commas, quotes and brackets)"
            }
            if context.codingPath.isEmpty { return context.debugDescription }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
