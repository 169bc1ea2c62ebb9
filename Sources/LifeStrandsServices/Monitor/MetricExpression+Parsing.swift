public import Foundation

/// An expression that cannot be read, with where and why.
public struct MetricExpressionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The character offset the problem was found at.
    public var offset: Int
    public var problem: String

    public var description: String { "at character \(offset + 1): \(problem)" }
}

extension MetricExpression {
    /// The longest expression read, and how deep parentheses and calls may nest.
    public static let maxLength = 1000
    static let maxDepth = 32

    /// Reads an expression. - Throws: `MetricExpressionError` naming the first problem and where it is.
    public init(parsing text: String) throws(MetricExpressionError) {
        guard text.count <= Self.maxLength else {
            throw MetricExpressionError(offset: Self.maxLength, problem: "longer than \(Self.maxLength) characters")
        }
        var parser = ExpressionParser(text: Array(text.unicodeScalars))
        self = try parser.expression()
    }

    /// Reads a Prometheus duration: `30s`, `5m`, `1h30m`, `2d`, `0m`.
    public static func duration(_ text: String) -> TimeInterval? {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        var total: TimeInterval = 0
        var digits = ""
        for character in text {
            if character.isASCII && character.isNumber {
                digits.append(character)
            } else if let unit = units[character], let amount = Double(digits) {
                total += amount * unit
                digits = ""
            } else {
                return nil
            }
        }
        return digits.isEmpty && !text.isEmpty ? total : nil
    }
}

/// Recursive descent over the expression's characters, depth-limited so no input can exhaust the stack.
private struct ExpressionParser {
    let text: [Unicode.Scalar]
    var position = 0
    var depth = 0

    mutating func expression() throws(MetricExpressionError) -> MetricExpression {
        let value = try sum()
        skipSpace()
        var result = value
        if let comparison = comparisonOperator() {
            skipSpace()
            guard let threshold = number() else { throw failure("expected a number after \(comparison.rawValue)") }
            result = .comparison(comparison, value, threshold)
        }
        skipSpace()
        guard position == text.count else { throw failure("unexpected \"\(String(text[position]))\"") }
        return result
    }

    private mutating func sum() throws(MetricExpressionError) -> MetricExpression {
        var left = try product()
        while true {
            skipSpace()
            guard let operation = take(["+", "-"]) else { return left }
            left = .arithmetic(operation == "+" ? .add : .subtract, left, try product())
        }
    }

    private mutating func product() throws(MetricExpressionError) -> MetricExpression {
        var left = try operand()
        while true {
            skipSpace()
            guard let operation = take(["*", "/"]) else { return left }
            left = .arithmetic(operation == "*" ? .multiply : .divide, left, try operand())
        }
    }

    private mutating func operand() throws(MetricExpressionError) -> MetricExpression {
        depth += 1
        defer { depth -= 1 }
        guard depth <= MetricExpression.maxDepth else { throw failure("nested deeper than \(MetricExpression.maxDepth)") }
        skipSpace()
        if take(["("]) != nil {
            let inner = try sum()
            try expect(")")
            return inner
        }
        if let value = number() { return .number(value) }
        let name = identifier()
        guard !name.isEmpty else {
            throw failure(position < text.count ? "unexpected \"\(String(text[position]))\"" : "the expression ends too soon")
        }
        skipSpace()
        guard peek() == "(" else { return .selector(try selector(named: name)) }
        position += 1
        let call: MetricExpression
        switch name {
        case "rate", "increase":
            let (selector, range) = try rangeSelector()
            call = name == "rate" ? .rate(selector, range: range) : .increase(selector, range: range)
        case "histogram_quantile":
            skipSpace()
            guard let q = number() else { throw failure("histogram_quantile takes a quantile from 0 to 1 first") }
            guard (0...1).contains(q) else { throw failure("the quantile \(q) is not from 0 to 1") }
            try expect(",")
            call = .quantile(q, try sum())
        case "sum":
            call = .sum(try sum())
        default:
            throw failure("unknown function \(name); known: rate, increase, histogram_quantile, sum")
        }
        try expect(")")
        return call
    }

    private mutating func rangeSelector() throws(MetricExpressionError) -> (MetricSelector, TimeInterval) {
        skipSpace()
        let name = identifier()
        guard !name.isEmpty else { throw failure("expected a metric name") }
        let selector = try selector(named: name)
        try expect("[")
        let start = position
        while position < text.count, text[position] != "]" { position += 1 }
        let text = String(String.UnicodeScalarView(text[start..<position]))
        guard let range = MetricExpression.duration(text.trimmingCharacters(in: .whitespaces)), range > 0 else {
            throw MetricExpressionError(offset: start, problem: "expected a range such as 5m, not \"\(text)\"")
        }
        try expect("]")
        return (selector, range)
    }

    private mutating func selector(named name: String) throws(MetricExpressionError) -> MetricSelector {
        var matchers: [MetricSelector.Matcher] = []
        skipSpace()
        guard take(["{"]) != nil else { return MetricSelector(name: name, matchers: []) }
        while true {
            skipSpace()
            if take(["}"]) != nil { break }
            let label = identifier()
            guard !label.isEmpty else { throw failure("expected a label name") }
            skipSpace()
            let equal: Bool
            if take(["!"]) != nil {
                try expect("=")
                equal = false
            } else {
                try expect("=")
                guard peek() != "~" else { throw failure("regular expression matchers (=~) are not supported") }
                equal = true
            }
            skipSpace()
            matchers.append(.init(label: label, value: try string(), equal: equal))
            skipSpace()
            if take([","]) != nil { continue }
            try expect("}")
            break
        }
        return MetricSelector(name: name, matchers: matchers)
    }

    private mutating func string() throws(MetricExpressionError) -> String {
        guard take(["\""]) != nil else { throw failure("expected a quoted label value") }
        var value = ""
        while position < text.count {
            let scalar = text[position]
            position += 1
            switch scalar {
            case "\"": return value
            case "\\":
                guard position < text.count else { break }
                value.unicodeScalars.append(text[position] == "n" ? "\n" : text[position])
                position += 1
            default: value.unicodeScalars.append(scalar)
            }
        }
        throw failure("a label value is not closed with \"")
    }

    private mutating func identifier() -> String {
        let start = position
        while position < text.count {
            let scalar = text[position]
            let letter = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_" || scalar == ":"
            guard letter || (("0"..."9").contains(scalar) && position > start) else { break }
            position += 1
        }
        return String(String.UnicodeScalarView(text[start..<position]))
    }

    private mutating func number() -> Double? {
        let start = position
        while position < text.count, "0123456789.eE".unicodeScalars.contains(text[position])
            || (position > start && "+-".unicodeScalars.contains(text[position]) && "eE".unicodeScalars.contains(text[position - 1]))
        {
            position += 1
        }
        guard position > start, let value = Double(String(String.UnicodeScalarView(text[start..<position]))), value.isFinite else {
            position = start
            return nil
        }
        return value
    }

    private mutating func comparisonOperator() -> MetricExpression.Comparison? {
        for comparison in [MetricExpression.Comparison.greaterOrEqual, .lessOrEqual, .equal, .notEqual, .greater, .less] {
            let symbol = Array(comparison.rawValue.unicodeScalars)
            if position + symbol.count <= text.count, Array(text[position..<position + symbol.count]) == symbol {
                position += symbol.count
                return comparison
            }
        }
        return nil
    }

    private func peek() -> Unicode.Scalar? { position < text.count ? text[position] : nil }

    private mutating func take(_ choices: [Unicode.Scalar]) -> Unicode.Scalar? {
        guard let next = peek(), choices.contains(next) else { return nil }
        position += 1
        return next
    }

    private mutating func expect(_ symbol: Unicode.Scalar) throws(MetricExpressionError) {
        skipSpace()
        guard take([symbol]) != nil else { throw failure("expected \"\(symbol)\"") }
    }

    private mutating func skipSpace() {
        while position < text.count, text[position].properties.isWhitespace { position += 1 }
    }

    private func failure(_ problem: String) -> MetricExpressionError {
        MetricExpressionError(offset: position, problem: problem)
    }
}
