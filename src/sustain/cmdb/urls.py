from django.urls import path

from sustain.cmdb import views

app_name = "cmdb"
urlpatterns = [
    path("configs", views.documents, name="documents"),
    path("items/<int:item_id>/configs", views.item_documents, name="item_documents"),
    path("configs/<int:document_id>", views.document, name="document"),
    path("configs/<int:document_id>/diff", views.document_diff, name="document_diff"),
    path("configs/<int:document_id>/rollback", views.document_rollback, name="document_rollback"),
    path("configs/<int:document_id>/ignore", views.document_ignore, name="document_ignore"),
]
