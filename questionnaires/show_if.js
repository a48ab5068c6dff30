/* show_if evaluator for the page: same grammar and semantics as questionnaires/show_if.py.
 * Usage: ShowIf.evaluate("q1 <= 2 or answered(q2)", {q1: "2", q2: ["a"]}) -> true
 * Shared test cases: tests/questionnaires/show_if_cases.json. No eval, no Function. */
(function (root) {
  "use strict";

  var KEYWORDS = ["and", "or", "not", "in", "answered"];
  var TOKEN = /[ \t\n\r\f\v]+|(-?\d+(?:\.\d+)?)|('[^']*'|"[^"]*")|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|<|>)|([()\[\],])/y;
  var KINDS = [null, "number", "string", "name", "operator", "punctuation"];
  var NUMERIC = /^-?\d+(\.\d+)?$/;
  var EDGE_SPACE = /^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g;  // ASCII only, as in show_if.py
  var MAX_NESTING = 32, MAX_NUMBER_LENGTH = 20;  // as in show_if.py

  function SyntaxProblem(message) { this.name = "ShowIfSyntaxError"; this.message = message; }
  SyntaxProblem.prototype = Object.create(Error.prototype);

  function unexpectedCharacter(text, position) {
    var character = text[position];
    if (character === "=") return "unexpected '=' at column " + (position + 1) + "; use '==' to compare";
    if (character === "'" || character === '"') {
      return "unterminated string starting at column " + (position + 1) + "; close it with " + character;
    }
    return "unexpected character '" + character + "' at column " + (position + 1);
  }

  function tokenize(text) {
    var tokens = [], position = 0;
    while (position < text.length) {
      TOKEN.lastIndex = position;
      var match = TOKEN.exec(text);
      if (!match) throw new SyntaxProblem(unexpectedCharacter(text, position));
      for (var group = 1; group < KINDS.length; group++) {
        if (match[group] !== undefined) { tokens.push({kind: KINDS[group], text: match[0], position: position}); }
      }
      position = TOKEN.lastIndex;
    }
    tokens.push({kind: "end", text: "", position: text.length});
    return tokens;
  }

  function Parser(text) { this.tokens = tokenize(text); this.index = 0; this.depth = 0; }
  Parser.prototype.current = function () { return this.tokens[this.index]; };
  Parser.prototype.advance = function () { return this.tokens[this.index++]; };
  Parser.prototype.atWord = function (word) { var t = this.current(); return t.kind === "name" && t.text === word; };
  Parser.prototype.at = function (text) {
    var t = this.current(); return (t.kind === "operator" || t.kind === "punctuation") && t.text === text;
  };
  Parser.prototype.fail = function (expected) {
    var t = this.current();
    var found = t.kind === "end" ? "the end of the expression" : "'" + t.text + "'";
    throw new SyntaxProblem("expected " + expected + " at column " + (t.position + 1) + ", found " + found);
  };
  Parser.prototype.expect = function (text) { if (!this.at(text)) this.fail("'" + text + "'"); return this.advance(); };
  Parser.prototype.parse = function () {
    var tree = this.expression();
    if (this.current().kind !== "end") this.fail("'and', 'or' or the end of the expression");
    return tree;
  };
  Parser.prototype.joined = function (word, next, kind) {
    var operands = [next.call(this)];
    while (this.atWord(word)) { this.advance(); operands.push(next.call(this)); }
    return operands.length === 1 ? operands[0] : {kind: kind, operands: operands};
  };
  Parser.prototype.expression = function () { return this.joined("or", this.andExpression, "or"); };
  Parser.prototype.andExpression = function () { return this.joined("and", this.notExpression, "and"); };
  Parser.prototype.notExpression = function () {
    if (this.atWord("not") || this.at("(")) return this.nested();
    if (this.atWord("answered")) {
      this.advance(); this.expect("("); var name = this.name(); this.expect(")");
      return {kind: "answered", key: name.key};
    }
    return this.comparison();
  };
  Parser.prototype.nested = function () {
    if (this.depth === MAX_NESTING) {
      throw new SyntaxProblem("the expression is nested more than " + MAX_NESTING + " levels deep at column " +
                              (this.current().position + 1) + "; simplify it");
    }
    this.depth += 1;
    var tree;
    if (this.atWord("not")) { this.advance(); tree = {kind: "not", operand: this.notExpression()}; }
    else { this.advance(); tree = this.expression(); this.expect(")"); }
    this.depth -= 1;
    return tree;
  };
  Parser.prototype.comparison = function () {
    var left = this.value();
    if (this.current().kind === "operator") {
      var operator = this.advance().text;
      return {kind: "compare", operator: operator, left: left, right: this.value()};
    }
    if (this.atWord("in")) { this.advance(); return {kind: "compare", operator: "in", left: left, right: this.value()}; }
    if (this.atWord("not") && this.tokens[this.index + 1].text === "in") {
      this.index += 2;
      return {kind: "compare", operator: "not in", left: left, right: this.value()};
    }
    this.fail("a comparison operator (==, !=, <, <=, >, >=, in, not in)");
  };
  Parser.prototype.value = function () {
    var t = this.current();
    if (t.kind === "punctuation" && t.text === "[") return this.listLiteral();
    if (t.kind === "number" || t.kind === "string") return {kind: "literal", value: this.literal()};
    if (t.kind === "name" && KEYWORDS.indexOf(t.text) < 0) return this.name();
    this.fail("an item key, a number, a quoted string or a [list]");
  };
  Parser.prototype.name = function () {
    var t = this.current();
    if (t.kind !== "name" || KEYWORDS.indexOf(t.text) >= 0) this.fail("an item key");
    this.advance();
    return {kind: "name", key: t.text};
  };
  Parser.prototype.literal = function () {
    var t = this.current();
    if (t.kind === "number") {
      if (t.text.length > MAX_NUMBER_LENGTH) {
        throw new SyntaxProblem("the number at column " + (t.position + 1) + " is longer than " + MAX_NUMBER_LENGTH +
                                " characters");
      }
      this.advance();
      return Number(t.text);
    }
    if (t.kind === "string") { this.advance(); return t.text.slice(1, -1); }
    this.fail("a number or a quoted string");
  };
  Parser.prototype.listLiteral = function () {
    this.expect("[");
    var values = this.at("]") ? [] : [this.literal()];
    while (this.at(",")) { this.advance(); values.push(this.literal()); }
    this.expect("]");
    return {kind: "list", values: values};
  };

  function parse(text) {
    if (typeof text !== "string" || !text.replace(EDGE_SPACE, "")) throw new SyntaxProblem("the expression is empty");
    return new Parser(text).parse();
  }

  function answer(answers, key) {
    var value = Object.prototype.hasOwnProperty.call(answers, key) ? answers[key] : null;
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) {
      return null;
    }
    return value;
  }

  function asNumber(value) {
    if (typeof value === "number") return value;
    if (typeof value === "string") {
      var trimmed = value.replace(EDGE_SPACE, "");
      if (NUMERIC.test(trimmed)) return Number(trimmed);
    }
    return null;
  }

  function textOrder(left, right) {
    // -1, 0 or 1 by Unicode code point, as Python orders str (JavaScript's < compares UTF-16 units)
    var i = 0, j = 0;
    while (i < left.length && j < right.length) {
      var l = left.codePointAt(i), r = right.codePointAt(j);
      if (l !== r) return l < r ? -1 : 1;
      i += l > 0xffff ? 2 : 1;
      j += r > 0xffff ? 2 : 1;
    }
    return (i < left.length ? 1 : 0) - (j < right.length ? 1 : 0);
  }

  function equal(left, right) {
    var l = asNumber(left), r = asNumber(right);
    if (l !== null && r !== null) return l === r;
    return String(left) === String(right);
  }

  function order(operator, left, right) {
    var l = asNumber(left), r = asNumber(right);
    if (l === null && r === null) { l = textOrder(String(left), String(right)); r = 0; }
    else if (l === null || r === null) return false;
    if (operator === "<") return l < r;
    if (operator === "<=") return l <= r;
    if (operator === ">") return l > r;
    return l >= r;
  }

  function contains(left, right) {
    var container = Array.isArray(right) ? right : [right];
    var elements = Array.isArray(left) ? left : [left];
    return elements.some(function (element) {
      return container.some(function (member) { return equal(element, member); });
    });
  }

  function compare(operator, left, right) {
    if (left === null || right === null) return false;
    if (operator === "in") return contains(left, right);
    if (operator === "not in") return !contains(left, right);
    if (Array.isArray(left) || Array.isArray(right)) return false;
    if (operator === "==") return equal(left, right);
    if (operator === "!=") return !equal(left, right);
    return order(operator, left, right);
  }

  function valueOf(node, answers) {
    if (node.kind === "name") return answer(answers, node.key);
    if (node.kind === "list") return node.values.slice();
    return node.value;
  }

  function evaluateTree(tree, answers) {
    switch (tree.kind) {
      case "or": return tree.operands.some(function (operand) { return evaluateTree(operand, answers); });
      case "and": return tree.operands.every(function (operand) { return evaluateTree(operand, answers); });
      case "not": return !evaluateTree(tree.operand, answers);
      case "answered": return answer(answers, tree.key) !== null;
      default: return compare(tree.operator, valueOf(tree.left, answers), valueOf(tree.right, answers));
    }
  }

  function evaluate(text, answers) { return evaluateTree(parse(text), answers || {}); }

  var api = {parse: parse, evaluate: evaluate, evaluateTree: evaluateTree, SyntaxError: SyntaxProblem};
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.ShowIf = api;
})(this);
