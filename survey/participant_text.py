"""The participant pages' own words in each language Candid ships (questionnaire texts come from the study)."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "agree": {"en": "I agree to take part", "zh": "我同意参加"},
    "decline": {"en": "I do not agree", "zh": "我不同意"},
    "consent_title": {"en": "Before you start", "zh": "开始之前"},
    "consent_check": {
        "en": "I have read the information above and agree to take part.",
        "zh": "我已阅读以上信息，并同意参加。",
    },
    "consent_required": {
        "en": "To take part, tick the box to show that you agree.",
        "zh": "如要参加，请勾选方框表示同意。",
    },
    "declined_title": {"en": "Thank you", "zh": "谢谢"},
    "declined_body": {
        "en": "You chose not to take part. Nothing you entered has been kept. You can close this page.",
        "zh": "您选择了不参加。我们没有保存任何信息。您可以关闭此页面。",
    },
    "next": {"en": "Next", "zh": "下一页"},
    "back": {"en": "Back", "zh": "上一页"},
    "finish": {"en": "Finish and submit", "zh": "完成并提交"},
    "progress": {"en": "Page {current} of {total}", "zh": "第{current}页，共{total}页"},
    "errors_title": {"en": "There is a problem", "zh": "有问题需要处理"},
    "count_label": {"en": "How many?", "zh": "几条？"},
    "thanks_title": {"en": "Thank you — your answers are saved", "zh": "谢谢——您的答案已保存"},
    "receipt_intro": {
        "en": "Your withdrawal receipt code (shown only once):",
        "zh": "您的撤回回执码（只显示一次）：",
    },
    "receipt_warning": {
        "en": "With this code you can withdraw your answers until {date}. Anyone who finds the code can see that you took part in this survey: keep it private, or do not keep it.",
        "zh": "凭此码，您可以在{date}之前撤回您的答案。任何拿到此码的人都能知道您参加过本调查：请妥善保管，或不要保存。",
    },
    "receipt_no_date": {"en": "at any time", "zh": "任何时候"},
    "withdraw_link": {"en": "Withdraw my answers", "zh": "撤回我的答案"},
    "continue_panel": {
        "en": "Continue to the panel to confirm your participation",
        "zh": "返回样本平台确认您的参与",
    },
    "closed_title": {"en": "This survey is closed", "zh": "本调查已结束"},
    "closed_body": {
        "en": "This survey is not taking answers now. Thank you for your interest.",
        "zh": "本调查目前不接受回答。感谢您的关注。",
    },
    "not_open_body": {
        "en": "This survey has not opened yet. Please come back later.",
        "zh": "本调查尚未开始，请稍后再来。",
    },
    "done_body": {
        "en": "You have already completed this survey on this device. Thank you.",
        "zh": "您已在此设备上完成本调查。谢谢。",
    },
    "ended_title": {"en": "Thank you for your time", "zh": "感谢您抽出时间"},
    "ended_body": {
        "en": "This visit to the survey has ended and nothing more is needed from you. You can close this page.",
        "zh": "本次调查访问已结束，无需您再做任何事。您可以关闭此页面。",
    },
    "withdraw_title": {"en": "Withdraw your answers", "zh": "撤回您的答案"},
    "withdraw_intro": {
        "en": "Enter the receipt code you were shown when you finished the survey.",
        "zh": "请输入您完成调查时看到的回执码。",
    },
    "withdraw_code": {"en": "Receipt code", "zh": "回执码"},
    "withdraw_submit": {"en": "Withdraw my answers", "zh": "撤回我的答案"},
    "withdraw_processed": {
        "en": "If this code belongs to a response, its answers have now been deleted for good. Codes are checked exactly: if you are not sure you typed it correctly, enter it again.",
        "zh": "如果此回执码对应某份答卷，其答案现已被永久删除。回执码须完全一致：如不确定是否输入正确，请再输入一次。",
    },
    "withdraw_frozen": {
        "en": "The data of this study were fixed for analysis on the announced date, so answers can no longer be withdrawn.",
        "zh": "本研究的数据已在公布的日期固定用于分析，因此答案已无法撤回。",
    },
    "withdraw_rate": {
        "en": "Too many attempts in the last minute. Please wait a minute and try again.",
        "zh": "最近一分钟内尝试次数过多，请稍候再试。",
    },
    "withdraw_empty": {
        "en": "Please enter the receipt code you were shown when you finished.",
        "zh": "请输入您完成调查时看到的回执码。",
    },
    "withdraw_bad_characters": {
        "en": "A receipt code has only the letters A to Z, the digits 2 to 7 and hyphens after the study number, so “{characters}” cannot be part of it. Please check what you typed (the letter O, not the digit 0; the letter I, not the digit 1).",
        "zh": "回执码在研究编号之后只包含字母 A 至 Z、数字 2 至 7 和连字符，因此“{characters}”不可能是其中的一部分。请检查您的输入（是字母 O 而不是数字 0；是字母 I 而不是数字 1）。",
    },
    "withdraw_no_study": {
        "en": "A receipt code starts with the study number and a hyphen, such as 12-K7QWM-…. Please enter the whole code.",
        "zh": "回执码以研究编号和连字符开头，例如 12-K7QWM-…。请输入完整的回执码。",
    },
    "withdraw_bad_length": {
        "en": "A receipt code has {expected} letters and digits after the study number; this one has {found}. Please check that you copied all of it.",
        "zh": "回执码在研究编号之后有 {expected} 个字母和数字；您输入的有 {found} 个。请检查是否完整复制。",
    },
    "withdraw_mistyped": {
        "en": "No receipt code ends like this one. Please check its last characters.",
        "zh": "没有以这样的字符结尾的回执码。请检查最后几个字符。",
    },
    "consent_elsewhere": {
        "en": "This consent form was opened in another browser, or this browser did not keep its cookies (the survey needs one to keep your place). Nothing was recorded. Please read the information and agree again here.",
        "zh": "此同意书是在另一个浏览器中打开的，或本浏览器没有保留 Cookie（本调查需要用它记住您的进度）。我们没有记录任何内容。请在此重新阅读信息并表示同意。",
    },
    "withdraw_malformed": {
        "en": "That does not look like a receipt code. Please check it and try again.",
        "zh": "这看起来不像回执码，请检查后重试。",
    },
    "trouble_title": {"en": "Something went wrong", "zh": "出了点问题"},
    "trouble_body": {
        "en": "We could not complete that step. Nothing you already answered is lost. Please try again.",
        "zh": "这一步未能完成。您已回答的内容不会丢失。请重试。",
    },
    "try_again": {"en": "Try again", "zh": "重试"},
    "out_of_order": {
        "en": "That page is not available yet. Continue from where you are.",
        "zh": "该页面尚不可用。请从当前页面继续。",
    },
    "session_invalid": {
        "en": "This link or session is not valid for this survey. Please start again from the survey link.",
        "zh": "此链接或会话对本调查无效。请从调查链接重新开始。",
    },
    "bad_request": {
        "en": "The form sent was not one this page expects. Please reload the page and try again.",
        "zh": "提交的内容与本页不符。请刷新页面后重试。",
    },
    "language": {"en": "Language", "zh": "语言"},
    "required_marker": {"en": "required", "zh": "必答"},
}
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}
DJANGO_LANGUAGE = {"en": "en", "zh": "zh-hans"}


def text(key: str, language: str, **values: str) -> str:
    entry = TEXT[key]
    return entry.get(language, entry["en"]).format(**values)


def texts(language: str) -> dict[str, str]:
    """Every UI text in ``language`` (English where a translation is missing), for templates."""
    return {key: entry.get(language, entry["en"]) for key, entry in TEXT.items()}
