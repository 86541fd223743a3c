"""Salebot's function names, by the section of Salebot's documentation that describes them.

Every name Salebot's calculator editor knows (and the platform functions its documentation
describes) is listed here once, under its section, with the documentation page where one
exists. The registry learns from it which names botlang deliberately does not provide, so a
call to one is reported as a Salebot platform function (with its page) rather than a typo;
the function reference shows, per section, what botlang provides.

Pages are paths under https://docs.salebot.pro/. Integration functions link to the page of
their integration; names found only in Salebot's editor have no page.
"""

from __future__ import annotations

from dataclasses import dataclass

from botlang.core.builtins import Registry

DOCS_URL = "https://docs.salebot.pro/"
_CALC = "chatbots/peremennye-i-funkcii/kalkulyator/"

CALCULATOR = "calculator"  # the calculator's own functions: botlang provides all of them
PLATFORM = "platform"  # functions of Salebot's platform and integrations
UNDOCUMENTED = "undocumented"  # names in Salebot's editor that no page describes

# Names the language itself handles (not registry functions).
LANGUAGE_CONSTRUCTS = frozenset({"if"})


@dataclass(frozen=True)
class Section:
    """One section of Salebot's function documentation."""

    kind: str
    title: str
    page: str | None
    names: tuple[str, ...]

    @property
    def url(self) -> str | None:
        return None if self.page is None else DOCS_URL + self.page


def _section(kind: str, title: str, page: str | None, names: str) -> Section:
    return Section(kind, title, page, tuple(names.split()))


SECTIONS: tuple[Section, ...] = (
    _section(
        CALCULATOR,
        "Math",
        _CALC + "matematicheskie-funkcii",
        """
        abs ceil customizable_round_multiply customizable_round_division exp fac floor int
        int_to_string is_float is_int log max min md5 sha1 sha256 pow pyt random round sqrt
        sin cos tan asin acos atan atan2 distance
        """,
    ),
    _section(
        CALCULATOR,
        "Strings",
        _CALC + "dlya-raboty-so-strokami",
        """
        substring endswith startswith contains len concat splitter lower upper strip
        capitalize title normalizePhone replace base64 base64decode urlencode urldecode
        hmac_hexdigest tg_escape select_random_from_list
        """,
    ),
    _section(
        CALCULATOR,
        "Regular expressions",
        _CALC + "dlya-raboty-s-regulyarnymi-vyrazheniyami",
        """
        findall similar
        """,
    ),
    _section(
        CALCULATOR,
        "Dates and times",
        _CALC + "dlya-raboty-s-datami-i-vremenem",
        """
        addYear addMonth addDays addMinutes time_interval convert_datetime birthdate
        weekday_date month_date get_datetime current_date_rus date_rus
        """,
    ),
    _section(CALCULATOR, "Conditions", _CALC + "uslovnyi-operator-if", "if"),
    _section(
        CALCULATOR,
        "Arrays",
        _CALC + "massivy-i-slovari/dlya-raboty-s-massivami",
        """
        in_array arr_len append insert del remove index massive_to_text except_arr cross_arr
        sum_array shuffle_massive sort sort_by_value tools_make_button_str_checker
        tools_check_user_input array_slice unpack_list remove_duplicates
        """,
    ),
    _section(
        CALCULATOR,
        "Dicts",
        _CALC + "massivy-i-slovari/dlya-raboty-so-slovaryami",
        """
        dict_keys_to_array dict_values_to_array get_values_by_key exist_key key_index
        humanize
        """,
    ),
    _section(
        CALCULATOR,
        "Variables of other clients",
        _CALC + "dlya-raboty-s-peremennymi",
        """
        get_client_var get_client_vars set_client_var set_client_vars
        """,
    ),
    _section(
        CALCULATOR,
        "Telephony: Mango Office",
        "integration/telefoniya/mango-office",
        """
        mango_employee_call mango_group_call
        """,
    ),
    _section(
        PLATFORM,
        "Client lists",
        _CALC + "dlya-raboty-so-spiskami",
        """
        count_occurrences create_list create_list_if_not_exist add_to_list move_to_list
        remove_from_list remove_list_from_project remove_label_from_project clear_list
        list_size lists_joint_count inlist some_client_in_list random_list_member
        """,
    ),
    _section(
        PLATFORM,
        "Clients and CRM",
        _CALC + "dlya-raboty-s-klientami-i-crm",
        """
        was_in_state days_from_last_message free_client assign_to_user distribute_client
        get_operator get_operator_name delete_pended_messages set_note add_unread
        clear_unread unsubscribe block_client unblock_client set_client_name
        get_bind_clients get_current_pipline_id create_task update_task done_task
        delete_task get_order_id create_order set_order_name set_order_budget
        get_active_orders_ids get_success_orders_ids get_fail_orders_ids get_order_var
        get_order_vars set_order_var set_order_vars move_order_to_next_state
        set_order_status_success set_order_status_fail set_order_status_archive get_state_id
        change_state get_order_id_by_var_value latest_order_datetime count_client_orders
        get_count_orders delete_order assign_order_to_user get_order_operator
        """,
    ),
    _section(
        PLATFORM,
        "API requests and callbacks",
        _CALC + "funkcii-api-v-kalkulyatore",
        """
        callback tg_callback tg_callback_url_open message platform_message whatsapp_message
        get_client_id_by_platform_id requests_get requests_post requests_put requests_patch
        requests_delete get_block_name_by_id amo_change_state amo_get_lead_info
        amo_get_lead_custom_field amo_get_contact_info amo_get_contact_custom_field
        amo_create_task amo_set_tags amo_set_budget amo_set_lead_name
        amo_set_lead_responsible_user amo_set_contact_responsible_user amo_add_notes
        amo_add_contact_notes amo_get_token amo_add_lead_custom_fields
        amo_add_contact_custom_fields amo_set_contact_name amo_add_lead
        """,
    ),
    _section(
        PLATFORM,
        "Links",
        _CALC + "dlya-raboty-so-ssylkami",
        """
        proxy proxy_date proxy_timeout short short_date short_timeout remove_links
        remove_one_time_links remove_timer_links quiz_link quiz_link_date quiz_link_timeout
        """,
    ),
    _section(
        PLATFORM,
        "Gamification",
        _CALC + "metody-geimifikacii",
        """
        tg_get_top tg_get_user_info game_add_comment game_add_stories game_add_message
        game_add_stories_mention game_add_post_mention game_get_user_score
        game_get_user_place game_get_leader_score game_get_top game_add_score game_set_score
        game_add_value game_set_value game_ban_player game_unban_player game_user_banned
        game_minus_user_score game_get_today_user_comment_action
        game_get_today_user_message_actions game_get_today_user_stories_actions
        game_get_today_user_post_mention_actions game_get_today_user_stories_mention_actions
        game_get_total_comment_action game_get_total_message_actions
        game_get_total_stories_actions game_get_total_stories_mention_actions
        game_get_total_post_mention_actions
        """,
    ),
    _section(
        PLATFORM,
        "QR codes",
        _CALC + "dlya-generacii-qr-koda",
        """
        qrcode_generate barcode_generate recognize_code
        """,
    ),
    _section(
        PLATFORM,
        "Staff",
        _CALC + "dlya-raboty-s-sotrudnikami",
        """
        send_notification get_operator_info
        """,
    ),
    _section(
        PLATFORM,
        "Online shop",
        _CALC + "dlya-raboty-s-onlain-magazinom",
        """
        change_order_shop_status
        """,
    ),
    _section(
        PLATFORM,
        "Messengers",
        _CALC + "dlya-raboty-v-messendzherakh",
        """
        check_insta_subscription check_whatsapp get_whatsapp_bot_id_by_phone last_message_id
        remove_last_message pause_bot delete_pended_messages_from_list check_operator_status
        """,
    ),
    _section(
        PLATFORM,
        "Salebot labels",
        _CALC + "dlya-raboty-s-metkami-salebot",
        """
        create_label add_label remove_label remove_label_everywhere
        count_of_clients_with_label has_label create_label_if_not_exist
        get_all_client_labels remove_multiple_client_labels find_clients_by_multiple_labels
        has_client_multiple_labels
        """,
    ),
    _section(
        PLATFORM,
        "E-mail",
        _CALC + "dlya-raboty-s-email",
        """
        send_email send_email_from_bot send_email_template confirm_email_subscription
        """,
    ),
    _section(
        PLATFORM,
        "Online booking",
        _CALC + "dlya-raboty-s-onlain-zapisyu",
        """
        get_companies_for_booking get_categories_for_booking get_employees_for_booking
        get_services_for_booking get_dates_for_booking get_slots_for_booking
        get_info_for_booking create_booking create_booking_by_name get_bookings_info
        get_active_order_booking_info modify_booking_time cancel_booking
        """,
    ),
    _section(
        PLATFORM,
        "Google Sheets",
        _CALC + "dlya-raboty-s-google-tablicami",
        """
        sheet_create_worksheet sheet_mapping_cells sheet_append_row sheet_write_cells
        sheet_remove_cells sheet_read_cells sheet_append_cell_in_row sheet_add_to_acell
        sheet_add_to_cell sheet_sub_to_acell sheet_sub_to_cell sheet_mul_to_acell
        sheet_mul_to_cell sheet_div_to_acell sheet_div_to_cell sheet_append_to_acell
        sheet_append_to_cell sheet_remove_row sheet_remove_col sheet_remove_range
        sheet_search_in_col_return_cell sheet_search_in_col_return_row
        sheet_search_in_col_return_cells_list sheet_search_in_multiple_cols_return_list
        sheet_search_in_multiple_cols_return_row sheet_create_spreadsheet sheet_copy_list
        sheet_search_in_col_return_row_array sheet_copy_data_block
        sheet_search_in_col_write_cells sheet_search_in_all_sheets sheet_delete_worksheet
        sheet_worksheet_indexes sheet_rename_worksheet
        """,
    ),
    _section(
        PLATFORM,
        "Google Docs",
        "integration/google/google-documents",
        """
        gd_create_new_doc gd_replace_text gd_add_text gd_copy gd_add_image save_google_doc
        """,
    ),
    _section(
        PLATFORM,
        "Marketplaces",
        _CALC + "dlya-raboty-s-marketpleisami",
        """
        wildberries_goods_feedbacks wildberries_answer_to_feedback wildberries_questions
        wildberries_question_mark_viewed wildberries_answer_question ozon_goods_feedbacks
        """,
    ),
    _section(
        PLATFORM,
        "Telephony: UIS",
        "integration/telefoniya/uiscom",
        """
        uiscom_scenario_call uiscom_employee_call uiscom_offline_messages uiscom_get_sites
        uiscom_get_campaigns
        """,
    ),
    _section(
        PLATFORM,
        "Telephony: Telphin",
        "integration/telefoniya/telfin",
        """
        telphin_employee_call telphin_group_call
        """,
    ),
    _section(
        PLATFORM,
        "Telephony: Zvonobot",
        "integration/telefoniya/zvonobot",
        """
        zvonobot_call zvonobot_digits_call
        """,
    ),
    _section(
        PLATFORM,
        "Telephony: IP Telefon",
        "integration/telefoniya/iptelefon",
        """
        iptelefon_employee_call iptelefon_group_call
        """,
    ),
    _section(PLATFORM, "Telephony: MegaFon", "integration/telefoniya/megafon", "megafon_call"),
    _section(
        PLATFORM,
        "Payments: Robokassa",
        "integration/payments/priem-platezhei-cherez-robokassu",
        """
        robokassa_recurrent_payment get_robokassa_payment_url
        """,
    ),
    _section(
        PLATFORM,
        "Payments: CloudPayments",
        "integration/payments/cloudpayments",
        """
        cloudpayments_subscription_info cloudpayments_update_subscription
        cloudpayments_remove_subscription cloudpayments_token_payment
        get_cloudpayments_payment_url get_cloudpayments_uz_payment_url
        """,
    ),
    _section(
        PLATFORM,
        "Payments: Prodamus",
        "integration/payments/platezhnaya-sistema-prodamus-prodamus",
        """
        prodamus_subscription_discount prodamus_subscription_switch_status
        prodamus_subscription_payment_date get_prodamus_payment_url
        get_prodamus_subscription_url
        """,
    ),
    _section(
        PLATFORM,
        "Payments: CoinPayments",
        "integration/payments/coinpayments",
        """
        coinpayments_get_payment_status
        """,
    ),
    _section(
        PLATFORM,
        "Payments: T-Bank credit",
        "integration/payments/t-bank-kreditovanie-rassrochka",
        """
        tinkoff_credit_create_invoice tinkoff_credit_action tinkoff_credit_info
        """,
    ),
    _section(
        PLATFORM,
        "Payments: T-Bank",
        "integration/payments/tinkoff",
        """
        tinkoff_recurrent_payment tinkoff_sm_register_get_token
        tinkoff_sm_register_get_shop_code get_tinkoff_payment_url
        """,
    ),
    _section(PLATFORM, "Payments: Payeer", "integration/payments/payeer.trade", "payeer_function"),
    _section(
        PLATFORM,
        "Payments: INXY",
        "integration/payments/inxy-payments",
        """
        inxy_remove_subscription
        """,
    ),
    _section(
        PLATFORM,
        "Payments: Stripe",
        "integration/payments/stripe",
        """
        stripe_add_subscription_discount stripe_remove_subscription_discount
        stripe_remove_subscription stripe_check_subscription
        """,
    ),
    _section(
        PLATFORM,
        "Payments: PayPal",
        "integration/payments/paypal",
        """
        paypal_payment_url paypal_subscription_url paypal_remove_subscription
        paypal_subscription_data
        """,
    ),
    _section(
        PLATFORM,
        "Payments: Life Pay",
        "integration/payments/life-pay",
        """
        life_pay_get_token life_pay_recurrent_payment life_pay_refund_payment
        life_pay_stop_recurrent_payments life_pay_get_payment_info get_life_pay_payment_url
        """,
    ),
    _section(
        PLATFORM,
        "Payments: Allpay",
        "integration/payments/allpay",
        """
        allpay_generate_payment_url
        """,
    ),
    _section(
        PLATFORM,
        "Payments: Wallet Pay",
        "integration/payments/wallet-pay",
        """
        wallet_pay_generate_payment_url
        """,
    ),
    _section(
        PLATFORM,
        "Payments: PayKeeper",
        "integration/payments/paykeeper",
        """
        paykeeper_generate_payment_url
        """,
    ),
    _section(
        PLATFORM,
        "Payments: Mandarin",
        "integration/payments/mandarin",
        """
        mandarin_generate_payment_url mandarin_get_order_info
        """,
    ),
    _section(
        PLATFORM,
        "Payments: bePaid",
        "integration/payments/bepaid",
        """
        get_bepaid_subscription_url get_bepaid_subscription_info cancel_bepaid_subscription
        make_bepaid_token_payment
        """,
    ),
    _section(
        PLATFORM,
        "Payments: Payselection",
        "integration/payments/payselection",
        """
        payselection_create_pay_url payselection_create_subscription_pay
        payselection_cancel_subscription
        """,
    ),
    _section(
        PLATFORM,
        "Payments: YooKassa",
        "integration/payments/priem-platezhei-v-bote-cherez-yandeks.kassu",
        """
        get_yookassa_payment_url
        """,
    ),
    _section(
        PLATFORM,
        "Online schools: Bizon365",
        "integration/infobiz/bizon-365",
        """
        bizon365_add_subscriber bizon365_is_visitor
        """,
    ),
    _section(
        PLATFORM,
        "Online schools: GetCourse",
        "integration/infobiz/getcourse",
        """
        getcourse_add_user getcourse_add_deal getcourse_update_deal
        getcourse_change_deal_status getcourse_add_user_to_groups
        """,
    ),
    _section(
        PLATFORM,
        "Online schools: MyOwnConference",
        "integration/infobiz/my-own-conference",
        """
        myownconference_find_webinars myownconference_history_user
        myownconference_is_online_user myownconference_is_our_user myownconference_add_user
        myownconference_add_user_to_webinar
        """,
    ),
    _section(
        PLATFORM,
        "Online schools: WebinarGeek",
        "integration/infobiz/webinargeek",
        """
        webinargeek_get_webinar_list webinargeek_add_subscriber webinargeek_is_visitor
        webinargeek_search_broadcast_id
        """,
    ),
    _section(
        PLATFORM,
        "Telegram",
        None,
        """
        tg_answer_callback_query tg_send_document tg_send_voice tg_send_animation
        tg_send_video tg_send_venue tg_send_contact tg_send_sticker tg_send_video_note
        tg_send_photo tg_send_media_group tg_send_message tg_send_message_1
        tg_send_some_photo tg_send_some_video tg_send_some_document tg_send_some_audio
        tg_forward_message tg_create_chat_invite_link tg_revoke_chat_invite_link
        tg_unban_chat_member tg_ban_chat_member tg_restrict_chat_member
        tg_approve_chat_join_request tg_decline_chat_join_request tg_get_chat_member
        tg_delete_message tg_delete_messages tg_edit_message_text tg_edit_message_caption
        tg_edit_message_media tg_edit_message_reply_markup tg_send_poll tg_send_quiz_poll
        tg_stop_poll tg_send_invoice tg_add_thanks_score tg_add_thanks_score_for_answer
        tg_minus_thanks_score tg_mark_ban_user tg_mark_unban_user
        tg_previous_next_rating_buttons tg_get_chat_member_count tg_send_chat_action
        tg_chat_permission tg_export_chat_link tg_pin_chat_message tg_unpin_chat_message
        tg_unpin_all tg_set_chat_photo tg_delete_chat_photo tg_set_command tg_get_command
        tg_delete_command tg_set_chat_menu_button tg_send_dice tg_promote_user
        tg_set_administrator_title tg_set_group_title tg_set_chat_description
        tg_ban_chat_sender_chat tg_unban_chat_sender_chat tg_copy_message tg_get_forum_icon
        tg_create_forum_topic tg_edit_forum_topic tg_close_forum_topic tg_reopen_forum_topic
        tg_delete_forum_topic tg_unpin_topic_messages tg_edit_general_forum_topic
        tg_close_general_forum_topic tg_reopen_general_forum_topic
        tg_hide_general_forum_topic tg_unhide_general_forum_topic tg_set_bot_description
        tg_get_bot_description tg_set_bot_short_description tg_get_bot_short_description
        tg_set_reaction
        """,
    ),
    _section(
        PLATFORM,
        "VK",
        None,
        """
        vk_create_comment vk_get_name vk_send_message vk_send_sticker vk_send_some_photo
        vk_remove_chat_user vk_approve_request vk_delete_last_message vk_add_to_target_group
        vk_remove_from_target_group vk_add_new_target_group vk_add_thanks_score
        vk_minus_thanks_score vk_get_top vk_mark_ban_user vk_mark_unban_user
        vk_get_user_link vk_pin_message vk_unpin_message vk_send_chat_action
        vk_get_chat_member_count vk_export_chat_link vk_delete_messages vk_mark_conversation
        vk_unmark_conversation vk_ban_by_id vk_unban_by_id vk_remove_group_user
        vk_edit_manager vk_edit_message vk_get_short_link vk_show_alert_message
        vk_callback_url vk_search_message vk_open_comment vk_close_comment vk_liked_object
        vk_create_wall_post vk_delete_wall_post_comment vk_send_message_reaction
        vk_delete_message_reaction vk_get_message_reactions vk_get_wall_watch_count
        vk_ord_upload_media vk_ord_create_counteragent vk_ord_add_contract vk_ord_add_pad
        vk_ord_add_invoice vk_ord_add_creative vk_ord_create_new_publisher
        vk_ord_add_new_distribution vk_ord_add_web_pad vk_ord_add_new_creative
        vk_ord_create_invoice vk_check_user_online vk_vision_recognize_text
        """,
    ),
    _section(
        PLATFORM,
        "Instagram and Facebook",
        None,
        """
        insta_create_comment like_client_message reply_to_mention comment_text
        ig_set_persistent_menu ig_delete_persistent_menu fb_set_persistent_menu
        fb_delete_persistent_menu
        """,
    ),
    _section(
        PLATFORM,
        "Bitrix24",
        None,
        """
        bitrix_add_comment bitrix_add_deal_comment bitrix_add_contact_comment
        bitrix_add_lead_comment bitrix_deal_responsible bitrix_contact_responsible
        bitrix_lead_responsible bitrix_deal_fields bitrix_contact_fields bitrix_lead_fields
        bitrix_deal_search bitrix_contact_search bitrix_lead_search bitrix_product_search
        bitrix_dialog_finish
        """,
    ),
    _section(
        PLATFORM,
        "Analytics",
        None,
        """
        ga4_event ga_pageview ga_event ga_transaction_pageview ga_transaction_event
        ym_create_js_event_goal ym_send_offline_conversions ym_info_about_goals
        """,
    ),
    _section(
        PLATFORM,
        "AI",
        None,
        """
        code_executor open_ai_create_completion open_ai_moderations open_ai_edits
        open_ai_images_generations open_ai_chat_completions open_ai_thread_create
        open_ai_thread_add_message open_ai_thread_run open_ai_thread_get_messages
        ai_context_answer clear_assistant_chat_history
        """,
    ),
    _section(
        PLATFORM,
        "MoySklad",
        None,
        """
        moysklad_get_goods moysklad_make_order moysklad_humanize_goods_list
        moysklad_get_goods_photo moysklad_get_organizations moysklad_get_sale_channels
        moysklad_get_projects moysklad_get_storages
        """,
    ),
    _section(
        PLATFORM,
        "Klientiks",
        None,
        """
        klientiks_get_employees_list klientiks_get_services_list
        klientiks_get_free_date_for_record klientiks_add_record_for_client
        klientiks_add_new_clients klientiks_get_times klientiks_visit_cancel
        """,
    ),
    _section(
        PLATFORM,
        "SendPulse",
        None,
        """
        sendpulse_email sendpulse_email_template sendpulse_add_to_addressbook sendpulse_sms
        """,
    ),
    _section(
        PLATFORM,
        "Other telephony",
        None,
        """
        sipuni_scheme_call sipuni_internal_to_external_call zadarma_call
        onlinepbx_employee_call onlinepbx_group_call
        """,
    ),
    _section(PLATFORM, "Other payments", None, "lava_check_payment_status"),
    _section(
        UNDOCUMENTED,
        "Undocumented calculator names",
        None,
        """
        float compareTime compare_time add_days add_month add_year addCols add_cols c2n n2c
        add_minutes compareDate compare_date get set select_random
        """,
    ),
    _section(
        PLATFORM,
        "Other platform functions",
        None,
        """
        find_client_id add_to_list_by_list_name list_size_by_list_name
        move_to_list_by_list_name remove_from_list_by_list_name clear_list_by_list_name
        status_task check_vk_subscription last_messages_ids send_unsubscribe_to_vtargete
        send_subscribe_to_vtargete send_unsubscribe_to_loktar send_subscribe_to_loktar
        send_carousel get_all_client_lists get_main_id unmerge_client merge_client
        get_merge_link set_inline_menu_from_sheet register_customer_on_course
        register_customer del_customer_from_course has_customer_tariff
        has_customer_tariff_with_date access_course_from_webapp customer_was_on_translation
        get_certificate get_custom_image online_chat_send_form get_info_from_table
        """,
    ),
)


def section_of(name: str) -> Section | None:
    """The first section that lists ``name``."""
    for section in SECTIONS:
        if name in section.names:
            return section
    return None


def is_provided(name: str, registry: Registry) -> bool:
    return name in registry or name in LANGUAGE_CONSTRUCTS


def unprovided_reason(section: Section) -> str:
    """What a call to a name of ``section`` that botlang lacks is told."""
    where = f"Salebot: {section.title}"
    if section.url is not None:
        where += f", {section.url}"
    elif section.kind == UNDOCUMENTED:
        where += ", named in Salebot's editor but not documented"
    else:
        where += ", named in Salebot's editor"
    return f"a Salebot platform function botlang does not provide ({where})"


def declare(registry: Registry) -> None:
    """Tell the registry about every Salebot name it does not provide."""
    for section in SECTIONS:
        for name in section.names:
            if not is_provided(name, registry) and registry.unprovided(name) is None:
                registry.declare_unprovided(name, unprovided_reason(section))
