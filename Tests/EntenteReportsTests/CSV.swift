/// A strict RFC 4180 reader for the tests (independent of the renderer): fields separated by commas,
/// records by CRLF, quoted fields with doubled quotes.
enum CSV {
    static func parse(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text.unicodeScalars)[...]
        while let scalar = characters.popFirst() {
            if quoted {
                if scalar == "\"" {
                    if characters.first == "\"" {
                        field.unicodeScalars.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty: quoted = true
            case ",":
                record.append(field)
                field = ""
            case "\r":
                precondition(characters.first == "\n", "bare CR outside quotes")
                characters.removeFirst()
                record.append(field)
                records.append(record)
                record = []
                field = ""
            case "\n": preconditionFailure("bare LF outside quotes")
            default: field.unicodeScalars.append(scalar)
            }
        }
        precondition(field.isEmpty && record.isEmpty, "the last record must end with CRLF")
        return records
    }
}
