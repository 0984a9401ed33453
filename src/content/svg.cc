#include "content/svg.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace smmhub::content {
namespace {

struct DocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};
struct ContextDeleter {
  void operator()(xmlParserCtxt* context) const { xmlFreeParserCtxt(context); }
};
struct XmlCharDeleter {
  void operator()(xmlChar* text) const { xmlFree(text); }
};

std::string lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

std::string_view trim(std::string_view text) {
  size_t start = text.find_first_not_of(" \t\r\n\f");
  if (start == std::string_view::npos) {
    return {};
  }
  size_t end = text.find_last_not_of(" \t\r\n\f");
  return text.substr(start, end - start + 1);
}

std::string_view nameOf(const xmlChar* name) {
  return name == nullptr ? std::string_view() : reinterpret_cast<const char*>(name);
}

// The element's name as written, with its namespace prefix.
std::string qualifiedName(const xmlNode* node) {
  std::string name(nameOf(node->name));
  if (node->ns != nullptr && node->ns->prefix != nullptr) {
    return std::string(nameOf(node->ns->prefix)) + ":" + name;
  }
  return name;
}

std::string attributeName(const xmlAttr* attribute) {
  std::string name(nameOf(attribute->name));
  if (attribute->ns != nullptr && attribute->ns->prefix != nullptr) {
    return std::string(nameOf(attribute->ns->prefix)) + ":" + name;
  }
  return name;
}

std::string attributeValue(const xmlNode* node, const xmlAttr* attribute) {
  std::unique_ptr<xmlChar, XmlCharDeleter> value(
      xmlNodeListGetString(node->doc, attribute->children, 1));
  return value == nullptr ? "" : std::string(nameOf(value.get()));
}

// Whether a link stays inside the document: a fragment ("#id"), empty, or an
// inline PNG or JPEG in base64.
bool isInternalReference(std::string_view value) {
  std::string lower = lowercase(trim(value));
  return lower.empty() || lower.starts_with("#") || lower.starts_with("data:image/png;base64,") ||
         lower.starts_with("data:image/jpeg;base64,");
}

// Returns the targets of every url(...) in CSS, without quotes.
std::vector<std::string> cssUrls(std::string_view css) {
  std::vector<std::string> urls;
  std::string lower = lowercase(css);
  size_t at = 0;
  while ((at = lower.find("url(", at)) != std::string::npos) {
    size_t end = lower.find(')', at);
    std::string_view inside =
        css.substr(at + 4, end == std::string::npos ? std::string::npos : end - at - 4);
    inside = trim(inside);
    if (inside.size() >= 2 && (inside.front() == '"' || inside.front() == '\'') &&
        inside.back() == inside.front()) {
      inside = inside.substr(1, inside.size() - 2);
    }
    urls.emplace_back(inside);
    at += 4;
  }
  return urls;
}

constexpr std::array<std::string_view, 6> kForbiddenElements = {
    "script", "handler", "foreignobject", "iframe", "embed", "object"};

// Collects the problems of one document's elements.
class SvgChecker {
 public:
  explicit SvgChecker(Diagnostics* problems) : problems_(problems) {}

  void checkTree(const xmlNode* node) {
    for (; node != nullptr; node = node->next) {
      if (node->type != XML_ELEMENT_NODE) {
        continue;
      }
      checkElement(node);
      checkTree(node->children);
    }
  }

  int errors() const { return errors_; }
  const std::string& first() const { return first_; }

  void report(const xmlNode* node, std::string message) {
    std::string place = "line " + std::to_string(xmlGetLineNo(node));
    if (errors_++ == 0) {
      first_ = place + ": " + message;
    }
    if (problems_ != nullptr) {
      problems_->error(std::move(place), std::move(message));
    }
  }

 private:
  void checkElement(const xmlNode* node) {
    std::string element = "<" + qualifiedName(node) + ">";
    std::string local = lowercase(nameOf(node->name));
    if (std::find(kForbiddenElements.begin(), kForbiddenElements.end(), local) !=
        kForbiddenElements.end()) {
      report(node, element + " is not allowed: it can run code or embed another document");
      return;
    }

    for (const xmlAttr* attribute = node->properties; attribute != nullptr;
         attribute = attribute->next) {
      checkAttribute(node, element, attribute);
    }
    if (local == "style") {
      checkCss(node, element + " text", textOf(node));
    }
  }

  void checkAttribute(const xmlNode* node, const std::string& element, const xmlAttr* attribute) {
    std::string name = attributeName(attribute);
    std::string local = lowercase(nameOf(attribute->name));
    std::string value = attributeValue(node, attribute);
    std::string where = element + " attribute " + name;
    if (local.starts_with("on")) {
      report(node, where + " is an event handler, which is not allowed");
      return;
    }
    if (local == "href" || local == "src") {
      if (!isInternalReference(value)) {
        report(node, where + " points outside the document ('" + value +
                         "'); only '#id' and data:image/png or data:image/jpeg base64 are "
                         "allowed");
      }
      return;
    }
    // <animate attributeName="href" to="javascript:..."> changes a link
    // after the checks above have passed.
    std::string target = lowercase(trim(value));
    if (local == "attributename" && (target.starts_with("on") || target == "href" ||
                                     target == "xlink:href" || target == "src")) {
      report(node, where + " animates '" + value + "', which is not allowed");
      return;
    }
    checkCss(node, where, value);
  }

  void checkCss(const xmlNode* node, const std::string& where, const std::string& css) {
    if (lowercase(css).find("@import") != std::string::npos) {
      report(node, where + " uses @import, which loads another file");
    }
    for (const std::string& url : cssUrls(css)) {
      if (!isInternalReference(url)) {
        report(node, where + " has url(" + url +
                         ") pointing outside the document; only '#id' and data:image/png or "
                         "data:image/jpeg base64 are allowed");
      }
    }
  }

  static std::string textOf(const xmlNode* node) {
    std::unique_ptr<xmlChar, XmlCharDeleter> text(xmlNodeGetContent(node));
    return text == nullptr ? "" : std::string(nameOf(text.get()));
  }

  Diagnostics* problems_;
  int errors_ = 0;
  std::string first_;
};

// Reads an SVG length in pixels at 96 dpi: a number with an optional unit.
// Returns nullopt for a percentage or a value that is not a length.
std::optional<double> parseLength(std::string_view text) {
  text = trim(text);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || !std::isfinite(value) || value < 0) {
    return std::nullopt;
  }
  std::string unit = lowercase(trim(std::string_view(end, text.data() + text.size() - end)));
  static constexpr std::array<std::pair<std::string_view, double>, 8> kUnits = {{
      {"", 1},
      {"px", 1},
      {"pt", 96.0 / 72},
      {"pc", 16},
      {"in", 96},
      {"cm", 96 / 2.54},
      {"mm", 96 / 25.4},
      {"em", 16},
  }};
  for (const auto& [name, scale] : kUnits) {
    if (unit == name) {
      return value * scale;
    }
  }
  return std::nullopt;
}

std::optional<std::string> rootAttribute(const xmlNode* root, const char* name) {
  std::unique_ptr<xmlChar, XmlCharDeleter> value(
      xmlGetNoNsProp(root, reinterpret_cast<const xmlChar*>(name)));
  if (value == nullptr) {
    return std::nullopt;
  }
  return std::string(nameOf(value.get()));
}

// Rounds a length up to whole pixels, capped so that the caller's limits
// see a large value instead of an overflow.
std::int64_t wholePixels(double length) {
  constexpr double kCap = 1e12;
  return static_cast<std::int64_t>(std::ceil(std::min(length, kCap)));
}

SvgSize sizeOf(const xmlNode* root, SvgChecker* checker) {
  std::optional<double> view_width;
  std::optional<double> view_height;
  if (std::optional<std::string> view_box = rootAttribute(root, "viewBox")) {
    std::string numbers = *view_box;
    std::replace(numbers.begin(), numbers.end(), ',', ' ');
    std::array<double, 4> box{};
    const char* at = numbers.data();
    const char* end = numbers.data() + numbers.size();
    bool valid = true;
    for (double& value : box) {
      while (at < end && *at == ' ') {
        ++at;
      }
      auto [next, error] = std::from_chars(at, end, value);
      valid = valid && error == std::errc() && std::isfinite(value);
      at = next;
    }
    if (!valid || box[2] < 0 || box[3] < 0) {
      checker->report(root,
                      "<svg> viewBox '" + *view_box + "' is not four numbers x y width height");
    } else {
      view_width = box[2];
      view_height = box[3];
    }
  }

  SvgSize size;
  for (auto [name, view, out] : {std::tuple{"width", view_width, &size.width},
                                 std::tuple{"height", view_height, &size.height}}) {
    std::optional<std::string> text = rootAttribute(root, name);
    std::optional<double> length;
    if (text && !trim(*text).ends_with("%")) {
      length = parseLength(*text);
      if (!length) {
        checker->report(root, std::string("<svg> ") + name + " '" + *text +
                                  "' is not a length such as 120, 120px or 3cm");
      }
    }
    if (!length) {
      length = view;
    }
    *out = length ? wholePixels(*length) : 0;
  }
  return size;
}

// Whether the document's DOCTYPE declares an entity. Entities are how XML
// bombs ("billion laughs") and external file reads work, and SVG needs none.
bool declaresEntities(const xmlDoc* doc) {
  const xmlDtd* dtd = doc->intSubset;
  if (dtd == nullptr) {
    return false;
  }
  for (const xmlNode* node = dtd->children; node != nullptr; node = node->next) {
    if (node->type == XML_ENTITY_DECL) {
      return true;
    }
  }
  return false;
}

// The first error libxml2 reports while parsing, which names the cause; the
// errors after it follow from it ("Premature end of data").
struct FirstError {
  int line = 0;
  std::string message;
};

void recordFirstError(void* user_data, xmlErrorPtr error) {
  auto* context = static_cast<xmlParserCtxt*>(user_data);
  auto* first = static_cast<FirstError*>(context->_private);
  if (first != nullptr && first->message.empty() && error != nullptr &&
      error->level >= XML_ERR_ERROR) {
    first->line = error->line;
    first->message = error->message != nullptr ? trim(error->message) : "unknown error";
  }
}

void initializeParser() {
  static std::once_flag once;
  std::call_once(once, [] { xmlInitParser(); });
}

}  // namespace

Result<SvgSize> checkSvg(std::string_view bytes, Diagnostics* problems) {
  initializeParser();
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
    return Status::invalidArgument("SVG larger than 2 GiB");
  }

  // The entity check runs on the text before parsing too, so that libxml2
  // never builds an entity table for a bomb.
  std::string_view head = bytes.substr(0, bytes.find("<svg"));
  if (head.find("<!ENTITY") != std::string_view::npos) {
    std::string message = "the DOCTYPE declares entities, which SVG files must not use";
    if (problems != nullptr) {
      problems->error("line 1", message);
    }
    return Status::invalidArgument("invalid SVG: " + message);
  }

  std::unique_ptr<xmlParserCtxt, ContextDeleter> context(xmlNewParserCtxt());
  if (context == nullptr) {
    return Status::internal("libxml2 could not allocate a parser context");
  }
  FirstError first_error;
  context->_private = &first_error;
  context->sax->serror = recordFirstError;
  constexpr int kOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  std::unique_ptr<xmlDoc, DocDeleter> doc(xmlCtxtReadMemory(context.get(), bytes.data(),
                                                            static_cast<int>(bytes.size()),
                                                            "upload.svg", nullptr, kOptions));
  if (doc == nullptr || !context->wellFormed) {
    std::string place = "line " + std::to_string(first_error.line);
    std::string message = "not well-formed XML: " +
                          (first_error.message.empty() ? "unknown error" : first_error.message);
    if (problems != nullptr) {
      problems->error(place, message);
    }
    return Status::invalidArgument("invalid SVG: " + place + ": " + message);
  }

  SvgChecker checker(problems);
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || nameOf(root->name) != "svg") {
    return Status::invalidArgument("invalid SVG: the root element is not <svg>");
  }
  if (declaresEntities(doc.get())) {
    checker.report(root, "the DOCTYPE declares entities, which SVG files must not use");
  }
  checker.checkTree(root);
  SvgSize size = sizeOf(root, &checker);
  if (checker.errors() > 0) {
    return Status::invalidArgument("invalid SVG: " + std::to_string(checker.errors()) +
                                   (checker.errors() == 1 ? " problem" : " problems") +
                                   "; first: " + checker.first());
  }
  return size;
}

}  // namespace smmhub::content
